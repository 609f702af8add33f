// The Catch2 main for both test binaries.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
