// LoaderState; see loader_state.h.
#include "distilbert/data/loader_state.h"

#include "distilbert/core/error.h"
#include "distilbert/core/json_get.h"

namespace distilbert::data {

nlohmann::json LoaderState::to_json() const {
  return {{"epoch", epoch}, {"batch", batch}, {"seed", seed}, {"rank", rank}, {"world_size", world_size}};
}

LoaderState LoaderState::from_json(const nlohmann::json& j, const std::string& where) {
  LoaderState s;
  s.epoch = json_int(j, "epoch", where);
  s.batch = json_int(j, "batch", where);
  s.seed = json_uint(j, "seed", where);
  s.rank = json_int(j, "rank", where);
  s.world_size = json_int(j, "world_size", where);
  DISTILBERT_CHECK(s.epoch >= 0 && s.batch >= 0, where, ": epoch ", s.epoch, " and batch ", s.batch,
                   " must be >= 0");
  DISTILBERT_CHECK(s.world_size >= 1 && s.rank >= 0 && s.rank < s.world_size, where, ": rank ", s.rank, " of ",
                   s.world_size, " process(es) is not a valid rank");
  return s;
}

}  // namespace distilbert::data
