"""The results table of scripts/experiment_real_teacher.sh: reads its run folder, writes results.json and results.md.

    python scripts/experiment_table.py RUN_DIR

Per task: the teacher's score, the distilled and control students' mean, sample standard deviation and range over
seeds, retention (student mean / teacher), and the paper's dev-set figures for DistilBERT and BERT-base (Sanh et al.,
2019, Table 1) beside them. Scores are the fine-tuning command's main metric on the full dev split: accuracy for
SST-2 and RTE, the mean of accuracy and F1 for MRPC, the mean of Pearson and Spearman correlations for STS-B.
"""
import json
import statistics
import sys
from pathlib import Path

PAPER = {  # task: (DistilBERT, BERT-base), dev set, Sanh et al. 2019 Table 1
    "sst2": (91.3, 92.7), "mrpc": (87.5, 88.6), "rte": (59.9, 69.3), "stsb": (86.9, 89.0)}
NAMES = {"sst2": "SST-2", "mrpc": "MRPC", "rte": "RTE", "stsb": "STS-B"}
# What a task's transfer set adds (scripts/experiment_real_teacher.sh: further sentences, or augmented pairs).
ADDED = {"sst2": "sentences", "mrpc": "augmented pairs"}
METRICS = {"sst2": "acc", "mrpc": "mean of acc and F1", "rte": "acc", "stsb": "mean of Pearson and Spearman"}


def read_tsv(path):
    rows = [line.rstrip("\n").split("\t") for line in path.read_text().splitlines()]
    return rows[1:]


def summary(values):
    return {"mean": statistics.fmean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "n": len(values), "values": values}


def task_result(run, task):
    folder = run / task
    teacher = json.loads((folder / "teacher" / "eval_results.json").read_text())
    metric = teacher["main_metric"]
    out = {"metric": metric, "teacher": teacher[metric], "teacher_seconds": teacher["train_seconds"],
           "train_examples": teacher["train_examples"]}
    for kind in ("distilled", "control", "transfer"):
        runs = sorted(folder.glob(kind + "_seed*"))
        if not runs and kind == "transfer":
            continue
        if not runs:
            sys.exit(f"error: {folder}: no {kind}_seed* run folders: the experiment did not finish")
        results = [json.loads((r / "eval_results.json").read_text()) for r in runs]
        out[kind] = summary([r[metric] for r in results])
        out[kind]["seeds"] = [int(r.name.split("_seed")[1]) for r in runs]
        out[kind]["seconds"] = statistics.fmean(r["train_seconds"] for r in results)
        out[kind]["retention"] = out[kind]["mean"] / out["teacher"]
        out[kind]["train_examples"] = results[0]["train_examples"]
    out["margin"] = out["distilled"]["mean"] - out["control"]["mean"]
    return out


def pct(x):
    return f"{100 * x:.1f}"


def markdown(info, tasks, speed, params):
    lines = ["| task (dev metric) | teacher | distilled student | control student | retention distilled / control "
             "| distilled − control | paper: DistilBERT / BERT-base (retention) |",
             "|---|---|---|---|---|---|---|"]
    for task, r in tasks.items():
        d, c = r["distilled"], r["control"]
        paper = PAPER[task]
        lines.append(
            f"| {NAMES[task]} ({METRICS[task]}) | {pct(r['teacher'])} "
            f"| {pct(d['mean'])} ± {pct(d['sd'])} [{pct(d['min'])}–{pct(d['max'])}] "
            f"| {pct(c['mean'])} ± {pct(c['sd'])} [{pct(c['min'])}–{pct(c['max'])}] "
            f"| {pct(d['retention'])}% / {pct(c['retention'])}% | {100 * r['margin']:+.1f} "
            f"| {paper[0]} / {paper[1]} ({100 * paper[0] / paper[1]:.1f}%) |")
        if "transfer" in r:
            x = r["transfer"]
            lines.append(
                f"| {NAMES[task]}, distilled on a transfer set (+{x['train_examples'] - r['train_examples']:,} "
                f"teacher-labelled {ADDED.get(task, 'examples')}) | | {pct(x['mean'])} ± {pct(x['sd'])} [{pct(x['min'])}–{pct(x['max'])}] "
                f"| | {pct(x['retention'])}% | {100 * (x['mean'] - c['mean']):+.1f} | |")
    seeds = next(iter(tasks.values()))["distilled"]["seeds"]
    lines += ["", f"Students: mean ± sample standard deviation [range] over seeds {', '.join(map(str, seeds))}; "
              "the teacher is fine-tuned once (seed 1). Scores in %, on the whole dev split."]
    lines += ["", "| task | training examples | teacher training | distilled student training | control training "
              "| transfer-set training |", "|---|---|---|---|---|---|"]
    for task, r in tasks.items():
        transfer = f"{r['transfer']['seconds']:.0f} s ({r['transfer']['train_examples']:,} examples)" \
            if "transfer" in r else ""
        lines.append(f"| {NAMES[task]} | {r['train_examples']} | {r['teacher_seconds']:.0f} s "
                     f"| {r['distilled']['seconds']:.0f} s | {r['control']['seconds']:.0f} s | {transfer} |")
    lines += ["", f"Parameters: teacher {params['teacher'] / 1e6:.1f} M, student {params['distilled'] / 1e6:.1f} M "
              f"({100 * params['distilled'] / params['teacher']:.0f}%: each holds the same 11.7 M-parameter word embedding matrix, "
              "so halving the layers removes a quarter of the parameters)."]
    if speed:
        lines.append(f"Inference, batch 1 over {speed['sentences']} SST-2 dev sentences (best of 3 passes): teacher "
                     f"{speed['teacher']:.0f} sentences/s, student {speed['distilled']:.0f} sentences/s, "
                     f"speed-up {speed['distilled'] / speed['teacher']:.2f}x.")
    lines.append(f"CPU: {info.get('cpu', '?')}. Distillation: {info.get('distillation', '?')}.")
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: experiment_table.py RUN_DIR")
    run = Path(sys.argv[1])
    info = dict(read_tsv(run / "experiment.tsv"))
    tasks = {t: task_result(run, t) for t in info["tasks"].split(",")}
    best = {}
    for kind, rate in read_tsv(run / "speed.tsv"):
        best[kind] = max(best.get(kind, 0.0), float(rate))
    speed = dict(best, sentences=len((run / "speed_sentences.txt").read_text().splitlines())) if best else None
    params = {k: json.loads((run / f"info_{k}.json").read_text())["parameters"] for k in ("teacher", "distilled")}
    result = {"info": info, "tasks": tasks, "speed": speed, "parameters": params}
    (run / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (run / "results.md").write_text(markdown(info, tasks, speed, params))


if __name__ == "__main__":
    main()
