// Student initialisation; see student_init.h.
#include "distilbert/train/student_init.h"

#include <map>

#include <torch/torch.h>

#include "distilbert/core/error.h"

namespace distilbert {

StudentInit init_student_from_teacher(const NamedTensors& teacher, const ModelConfig& tc, const ModelConfig& sc,
                                      const std::vector<int64_t>& layers, bool vocab_transform) {
  DISTILBERT_CHECK(tc.model_type == ModelType::Bert,
                   "init-student: the teacher must be a BERT model, found model_type '", tc.model_type_name(), "'");
  DISTILBERT_CHECK(sc.model_type == ModelType::DistilBert,
                   "init-student: the student config must be a DistilBERT config, found '", sc.model_type_name(), "'");
  auto same = [&](const char* what, int64_t s, int64_t t) {
    DISTILBERT_CHECK(s == t, "init-student: student ", what, " is ", s, " but the teacher's is ", t,
                     " (the student must have the teacher's width to copy its layers)");
  };
  same("hidden size (dim)", sc.hidden_size, tc.hidden_size);
  same("FFN size (hidden_dim)", sc.intermediate_size, tc.intermediate_size);
  same("number of heads", sc.num_heads, tc.num_heads);
  same("vocab_size", sc.vocab_size, tc.vocab_size);
  same("max_position_embeddings", sc.max_position_embeddings, tc.max_position_embeddings);
  DISTILBERT_CHECK(static_cast<int64_t>(layers.size()) == sc.num_layers, "init-student: ", layers.size(),
                   " teacher layers given for a student with n_layers = ", sc.num_layers);
  for (int64_t l : layers)
    DISTILBERT_CHECK(l >= 0 && l < tc.num_layers, "init-student: teacher layer ", l,
                     " does not exist (the teacher has layers 0..", tc.num_layers - 1, ")");

  std::map<std::string, torch::Tensor> t;
  for (const auto& [k, v] : teacher) t[k] = v;
  // Old checkpoints store gamma/beta; tied decoder keys may be absent.
  for (auto& [k, v] : std::map<std::string, torch::Tensor>(t)) {
    if (k.size() > 6 && k.compare(k.size() - 6, 6, ".gamma") == 0) t[k.substr(0, k.size() - 6) + ".weight"] = v;
    if (k.size() > 5 && k.compare(k.size() - 5, 5, ".beta") == 0) t[k.substr(0, k.size() - 5) + ".bias"] = v;
  }
  // A base-model checkpoint (BertModel: a sentence encoder, say) stores the encoder without the "bert." prefix and
  // has no MLM head: the student's vocabulary projector bias then starts fresh.
  for (auto& [k, v] : std::map<std::string, torch::Tensor>(t))
    if (k.rfind("embeddings.", 0) == 0 || k.rfind("encoder.", 0) == 0) t["bert." + k] = v;
  const bool mlm_head = t.count("cls.predictions.bias") || t.count("cls.predictions.decoder.bias");
  DISTILBERT_CHECK(
      mlm_head || !vocab_transform,
      "init-student: --vocab-transform copies the teacher's MLM transform, but this checkpoint has no MLM head "
      "(no cls.predictions.* keys: a base BertModel)");
  auto take = [&](const std::string& key) -> torch::Tensor {
    auto it = t.find(key);
    DISTILBERT_CHECK(it != t.end(), "init-student: the teacher checkpoint has no '", key, "'");
    return it->second;
  };
  StudentInit out;
  auto copy = [&](const std::string& s, const std::string& key) { out.weights.emplace_back(s, take(key).clone()); };
  copy("distilbert.embeddings.word_embeddings.weight", "bert.embeddings.word_embeddings.weight");
  copy("distilbert.embeddings.position_embeddings.weight", "bert.embeddings.position_embeddings.weight");
  copy("distilbert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.weight");
  copy("distilbert.embeddings.LayerNorm.bias", "bert.embeddings.LayerNorm.bias");
  const std::pair<const char*, const char*> kLayerMap[] = {
      {"attention.q_lin", "attention.self.query"},      {"attention.k_lin", "attention.self.key"},
      {"attention.v_lin", "attention.self.value"},      {"attention.out_lin", "attention.output.dense"},
      {"sa_layer_norm", "attention.output.LayerNorm"}, {"ffn.lin1", "intermediate.dense"},
      {"ffn.lin2", "output.dense"},                    {"output_layer_norm", "output.LayerNorm"},
  };
  for (size_t i = 0; i < layers.size(); ++i)
    for (const auto& [s, b] : kLayerMap)
      for (const char* p : {".weight", ".bias"})
        copy(str_cat("distilbert.transformer.layer.", i, ".", s, p),
             str_cat("bert.encoder.layer.", layers[i], ".", b, p));
  // The decoder weight is the (tied) word embedding matrix in both models; only the bias is copied separately.
  if (mlm_head)
    copy("vocab_projector.bias", t.count("cls.predictions.bias") ? "cls.predictions.bias" : "cls.predictions.decoder.bias");
  else
    out.not_copied.push_back("vocab_projector.bias");
  const std::vector<std::pair<std::string, std::string>> head = {
      {"vocab_transform.weight", "cls.predictions.transform.dense.weight"},
      {"vocab_transform.bias", "cls.predictions.transform.dense.bias"},
      {"vocab_layer_norm.weight", "cls.predictions.transform.LayerNorm.weight"},
      {"vocab_layer_norm.bias", "cls.predictions.transform.LayerNorm.bias"}};
  for (const auto& [s, b] : head) {
    if (vocab_transform)
      copy(s, b);
    else
      out.not_copied.push_back(s);
  }
  return out;
}

}  // namespace distilbert
