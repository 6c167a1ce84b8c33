// The build123d models the benchmarks push (web/bench/cad_models.py: `pins`, `plate`), made once
// in the Python test environment and kept in target/bench.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";

/** The JSON bytes of the model `kind`, made on first use. */
export function cadModel(kind) {
  const path = `target/bench/${kind}.json`;
  if (!existsSync(path)) {
    mkdirSync("target/bench", { recursive: true });
    console.log(`making ${path} with build123d (a minute or two)`);
    execFileSync(process.env.OCP_BENCH_PYTHON ?? "target/venv/bin/python", ["web/bench/cad_models.py", kind, path], { stdio: "inherit" });
  }
  return readFileSync(path);
}
