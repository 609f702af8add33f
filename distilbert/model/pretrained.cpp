// Model factory and head names; see pretrained.h.
#include "distilbert/model/pretrained.h"

#include <set>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/model/bert.h"
#include "distilbert/model/distilbert.h"

namespace distilbert {

namespace {
struct HeadName {
  Head head;
  const char* short_name;
  const char* suffix;  // HF architecture suffix after "Bert"/"DistilBert"
};
const HeadName kHeads[] = {
    {Head::None, "none", "Model"},
    {Head::MaskedLM, "mlm", "ForMaskedLM"},
    {Head::SequenceClassification, "seq-cls", "ForSequenceClassification"},
    {Head::TokenClassification, "token-cls", "ForTokenClassification"},
    {Head::QuestionAnswering, "qa", "ForQuestionAnswering"},
    {Head::MultipleChoice, "multiple-choice", "ForMultipleChoice"},
};
}  // namespace

Head parse_head(const std::string& name) {
  for (const auto& h : kHeads)
    if (name == h.short_name) return h.head;
  if (name == "masked-lm") return Head::MaskedLM;
  if (name == "sequence-classification") return Head::SequenceClassification;
  if (name == "token-classification") return Head::TokenClassification;
  if (name == "question-answering") return Head::QuestionAnswering;
  if (name == "base") return Head::None;
  fail("unknown head '", name, "' (expected one of none, mlm, seq-cls, token-cls, qa, multiple-choice)");
}

std::string head_name(Head head) {
  for (const auto& h : kHeads)
    if (h.head == head) return h.short_name;
  return "?";
}

std::string architecture_name(ModelType type, Head head) {
  for (const auto& h : kHeads)
    if (h.head == head) return std::string(type == ModelType::Bert ? "Bert" : "DistilBert") + h.suffix;
  fail("unknown head");
}

Head head_of_architecture(const std::string& architecture, ModelType type) {
  const std::string prefix = type == ModelType::Bert ? "Bert" : "DistilBert";
  std::string known;
  for (const auto& h : kHeads) {
    if (architecture == prefix + h.suffix) return h.head;
    known += (known.empty() ? "" : ", ") + prefix + h.suffix;
  }
  fail("architecture '", architecture, "' is not supported for model_type '",
       type == ModelType::Bert ? "bert" : "distilbert", "' (supported: ", known, ")");
}

ModelPtr build_model(const ModelConfig& config, Head head) {
  config.validate("model config");
  ModelConfig c = config;
  c.architectures = {architecture_name(c.model_type, head)};
  if (c.model_type == ModelType::Bert) {
    switch (head) {
      case Head::None: return std::make_shared<BertModel>(c);
      case Head::MaskedLM: return std::make_shared<BertForMaskedLM>(c);
      case Head::SequenceClassification: return std::make_shared<BertForSequenceClassification>(c);
      case Head::TokenClassification: return std::make_shared<BertForTokenClassification>(c);
      case Head::QuestionAnswering: return std::make_shared<BertForQuestionAnswering>(c);
      case Head::MultipleChoice: return std::make_shared<BertForMultipleChoice>(c);
    }
  } else {
    switch (head) {
      case Head::None: return std::make_shared<DistilBertModel>(c);
      case Head::MaskedLM: return std::make_shared<DistilBertForMaskedLM>(c);
      case Head::SequenceClassification: return std::make_shared<DistilBertForSequenceClassification>(c);
      case Head::TokenClassification: return std::make_shared<DistilBertForTokenClassification>(c);
      case Head::QuestionAnswering: return std::make_shared<DistilBertForQuestionAnswering>(c);
      case Head::MultipleChoice: return std::make_shared<DistilBertForMultipleChoice>(c);
    }
  }
  fail("cannot build ", architecture_name(c.model_type, head));
}

ModelPtr build_model(const ModelConfig& config) {
  Head head = Head::None;
  if (!config.architectures.empty()) head = head_of_architecture(config.architectures.front(), config.model_type);
  return build_model(config, head);
}

ModelOutput PretrainedModel::encoder_forward(const ModelInputs&) {
  fail(architecture(), " has no masked-LM head: a ...ForMaskedLM model is needed here");
}

torch::Tensor PretrainedModel::mlm_logits(const torch::Tensor&) {
  fail(architecture(), " has no masked-LM head: a ...ForMaskedLM model is needed here");
}

int64_t count_parameters(const torch::nn::Module& module) {
  std::set<const void*> seen;
  int64_t n = 0;
  for (const auto& p : module.parameters(/*recurse=*/true))
    if (seen.insert(p.unsafeGetTensorImpl()).second) n += p.numel();
  return n;
}

}  // namespace distilbert
