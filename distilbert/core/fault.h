// Fault injection for the reliability tests (tests/integration/test_faults.cpp): named sites in the training and
// checkpoint code where a test can make the process die or misbehave at an exact moment, through the environment:
//
//   DISTILBERT_FAULT="site:action[@N][,site:action[@N]...]"
//
// The N-th time (1-based, default 1) the process reaches `site`, `action` happens:
//   kill    SIGKILL to this process (a power cut / OOM kill: no handler, no cleanup)
//   term    SIGTERM to this process (the real handler runs, as for `kill <pid>`)
//   abort   std::abort()
//   nan     point() returns true: the caller injects a NaN (see the sites below)
// Sites: checkpoint.begin, checkpoint.weights_written (model.safetensors written, nothing else yet),
// checkpoint.before_rename (every file written, folder not yet renamed), train.loss (each distillation_loss()
// call, i.e. each distill micro-batch; nan makes that micro-batch's loss_ce NaN, term stops the run as `kill -TERM`
// would in the middle of an accumulation cycle), finetune.loss (each fine-tuning micro-batch; nan makes its loss NaN,
// term stops the run there).
// Without the variable, point() is one branch on a cached flag.
#pragma once

namespace distilbert::fault {

/// Count a visit to `site`; perform the action configured for this visit. Returns true when the action is `nan`.
bool point(const char* site);

}  // namespace distilbert::fault
