// Tests for the GLUE submission writer (distilbert/tasks/submission.h): file names, the exact bytes written
// for text-label, integer and STS-B files, clipping, and the errors for bad ids, NaN and row counts.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <unistd.h>

#include "distilbert/core/error.h"
#include "distilbert/tasks/submission.h"
#include "support/scratch_files.h"

using namespace distilbert::tasks;
using Catch::Matchers::Contains;

namespace {

std::string submission_dir() { return distilbert::testing::scratch_dir("sub").string(); }
using distilbert::testing::read_file;

}  // namespace

TEST_CASE("submission file names and tasks", "[submission]") {
  std::vector<std::string> names;
  for (auto f : all_submission_files()) names.push_back(submission_file_name(f));
  CHECK(names == std::vector<std::string>{"CoLA.tsv", "SST-2.tsv", "MRPC.tsv", "STS-B.tsv", "QQP.tsv", "MNLI-m.tsv",
                                          "MNLI-mm.tsv", "QNLI.tsv", "RTE.tsv", "WNLI.tsv", "AX.tsv"});
  CHECK(submission_file_for(GlueTask::MNLI) == SubmissionFile::MNLIMatched);
  CHECK(submission_file_for(GlueTask::MNLI, true) == SubmissionFile::MNLIMismatched);
  CHECK(submission_file_for(GlueTask::SST2) == SubmissionFile::SST2);
  CHECK(submission_file_for(GlueTask::AX) == SubmissionFile::AX);
  CHECK_THROWS(submission_file_for(GlueTask::RTE, true));
  CHECK(submission_task(SubmissionFile::AX) == GlueTask::MNLI);
  CHECK(submission_expected_rows(SubmissionFile::SST2) == 1821);
  CHECK(submission_expected_rows(SubmissionFile::MNLIMismatched) == 9847);
}

TEST_CASE("prediction cells: label names, integers, clipped scores", "[submission]") {
  CHECK(format_class_prediction(SubmissionFile::QNLI, 1) == "not_entailment");
  CHECK(format_class_prediction(SubmissionFile::RTE, 0) == "entailment");
  CHECK(format_class_prediction(SubmissionFile::MNLIMatched, 1) == "neutral");
  CHECK(format_class_prediction(SubmissionFile::AX, 2) == "contradiction");
  CHECK(format_class_prediction(SubmissionFile::CoLA, 1) == "1");
  CHECK(format_class_prediction(SubmissionFile::WNLI, 0) == "0");
  CHECK(format_class_prediction(SubmissionFile::QQP, 1) == "1");
  CHECK_THROWS_WITH(format_class_prediction(SubmissionFile::SST2, 2), Contains("[0, 2), found 2"));
  CHECK_THROWS(format_class_prediction(SubmissionFile::STSB, 0));
  CHECK(format_score_prediction(-0.5) == "0.000");
  CHECK(format_score_prediction(2.34567) == "2.346");
  CHECK(format_score_prediction(5.7) == "5.000");
  CHECK(format_score_prediction(3) == "3.000");
  CHECK_THROWS(format_score_prediction(std::numeric_limits<double>::quiet_NaN()));
}

TEST_CASE("written files", "[submission]") {
  const std::string dir = submission_dir();
  SECTION("RTE: text labels") {
    const auto path = write_class_submission(dir, SubmissionFile::RTE, {0, 1, 0});
    CHECK(path == dir + "/RTE.tsv");
    CHECK(read_file(path) == "index\tprediction\n0\tentailment\n1\tnot_entailment\n2\tentailment\n");
  }
  SECTION("MNLI-mm: three text labels") {
    const auto path = write_class_submission(dir, SubmissionFile::MNLIMismatched, {2, 1, 0});
    CHECK(read_file(path) == "index\tprediction\n0\tcontradiction\n1\tneutral\n2\tentailment\n");
  }
  SECTION("CoLA: integers") {
    CHECK(read_file(write_class_submission(dir, SubmissionFile::CoLA, {1, 0})) == "index\tprediction\n0\t1\n1\t0\n");
  }
  SECTION("STS-B: clipped floats") {
    const auto path = write_score_submission(dir, {-0.5, 2.34567, 5.7, 3});
    CHECK(path == dir + "/STS-B.tsv");
    CHECK(read_file(path) == "index\tprediction\n0\t0.000\n1\t2.346\n2\t5.000\n3\t3.000\n");
  }
  SECTION("errors leave no file behind") {
    std::filesystem::remove(dir + "/SST-2.tsv");
    CHECK_THROWS_WITH(write_class_submission(dir, SubmissionFile::SST2, {0, 1, 5}),
                      Contains("found 5") && Contains("prediction 2"));
    CHECK_FALSE(std::filesystem::exists(dir + "/SST-2.tsv"));
    CHECK_THROWS_WITH(write_class_submission(dir, SubmissionFile::RTE, {0, 1, 0}, true),
                      Contains("expected 3000 predictions") && Contains("found 3"));
    CHECK_THROWS_WITH(write_class_submission(dir, SubmissionFile::STSB, {1}), Contains("write_score_submission"));
    CHECK_THROWS_WITH(write_score_submission(dir, {1.0, std::nan("")}), Contains("prediction 1"));
    CHECK_THROWS_WITH(write_class_submission(dir, SubmissionFile::QNLI, {}), Contains("found none"));
  }
  SECTION("the folder is created") {
    const auto path = write_class_submission(dir + "/nested/out", SubmissionFile::WNLI, {1});
    CHECK(read_file(path) == "index\tprediction\n0\t1\n");
  }
}
