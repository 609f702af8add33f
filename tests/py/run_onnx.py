"""Run ONNX models in ONNX Runtime on inputs stored as safetensors; write every output as safetensors.

    python run_onnx.py manifest.json

manifest: {"threads": 1, "jobs": [{"model": "m.onnx", "inputs": "in.safetensors", "outputs": "out.safetensors",
           "optimization": "all"}]}
Inputs are fed by name (each graph input must be in the file). Prints one JSON line per job.
"""
import json
import sys
import time

from safetensors.numpy import load_file, save_file

from ort_session import runtime_name, session


def main(manifest_path):
    with open(manifest_path) as f:
        manifest = json.load(f)
    threads = manifest.get("threads", 1)
    for job in manifest["jobs"]:
        sess = session(job["model"], threads, job.get("optimization", "all"))
        stored = load_file(job["inputs"])
        feeds = {}
        for i in sess.get_inputs():
            if i.name not in stored:
                raise SystemExit(f"{job['model']}: input '{i.name}' missing from {job['inputs']}")
            feeds[i.name] = stored[i.name]
        names = [o.name for o in sess.get_outputs()]
        t0 = time.perf_counter()
        results = sess.run(names, feeds)
        ms = 1000 * (time.perf_counter() - t0)
        save_file(dict(zip(names, results)), job["outputs"])
        print(json.dumps({"model": job["model"], "runtime": runtime_name(), "inputs": list(feeds), "outputs": names,
                          "ms": ms}))


if __name__ == "__main__":
    main(sys.argv[1])
