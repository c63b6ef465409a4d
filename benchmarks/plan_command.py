"""Benchmark: the whole `m365move plan --format json` command against its floor, JSON and YAML estates.

The floor is what the same work costs with the fastest parts at hand, measured in this run on the same
estate: parse and validate the estate with msgspec (the loader's own typed structs, `m365move/estate/fast_schema.py`), the
planning core (plan + preflight), and the plan document encoded by orjson. The real command is
`python -m m365move plan --mode M --estate FILE --format json --output FILE` in its own process, from
interpreter start to exit, as a user runs it. CPU seconds are compared (user + system of the process:
on a shared machine wall time also counts other people's work); wall seconds are printed beside them.

Targets at 100k subscriptions (500 resellers, 2,000 plans):
  JSON estate: real command ≤ 1.5 × floor, peak memory ≤ 1 GB;
  YAML estate: real command ≤ 3 × the real command on the JSON estate.
Exit status 1 when a target is missed.

    .venv/bin/python benchmarks/plan_command.py [--subscriptions 100000] [--mode switch-plan] [--no-yaml] \
        [--runs 2] [--estates DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from child_peak_memory import PeakMemoryWatch

TARGET_FLOOR_RATIO = 1.5
TARGET_PEAK_MB = 1024
TARGET_YAML_RATIO = 3.0
ROOT = Path(__file__).resolve().parents[1]


def measure_floor(estate_path: Path, mode_name: str) -> dict[str, float]:
    """CPU seconds of the floor's three parts, each the best of two, with the cyclic GC off as fast code has it."""
    from m365move.domain.migration_rules import DEFAULT_TERM_END_DAYS
    from m365move.domain.orders import MigrationMode
    from m365move.domain.planner import plan_migration
    from m365move.domain.preflight import preflight_findings, term_ending_finding, terms_ending_soon
    from m365move.estate.fast_schema import decode_json_estate
    from m365move.estate.loader import load_estate
    from m365move.plan_output.json_format import plan_to_json

    gc.disable()
    data = estate_path.read_bytes()
    # The product's own fast decoder (typed structs with the schema's constraints); a file it refuses has no floor.
    if decode_json_estate(data) is None:
        raise SystemExit(f"{estate_path}: the fast estate decoder refuses this file; the floor needs one it accepts")
    parse = _best(lambda: decode_json_estate(data))
    estate = load_estate(estate_path).estate  # the planning core's input; not part of the floor
    mode = MigrationMode(mode_name)
    plan = findings = None

    def planning() -> None:
        nonlocal plan, findings
        plan = findings = None
        plan = plan_migration(estate, mode)
        # The command's preflight, with its default --term-ends-within.
        ending = terms_ending_soon(plan, ((s.id, s.expiration_date) for s in estate.subscriptions),
                                   today=dt.datetime.now(dt.timezone.utc).date(), days=DEFAULT_TERM_END_DAYS)
        findings = preflight_findings(plan, [term_ending_finding(ending, DEFAULT_TERM_END_DAYS)])

    planning_s = _best(planning)
    encode = _best(lambda: orjson.dumps(plan_to_json(plan, findings)))  # type: ignore[arg-type]
    return {"parse_s": parse, "plan_s": planning_s, "encode_s": encode}


def _best(work: Any, runs: int = 2) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


# ---- the real command --------------------------------------------------------------------------------


def run_command(estate_path: Path, mode: str, output: Path) -> dict[str, float]:
    """One `m365move plan` process: its CPU seconds, wall seconds and peak resident memory."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "m365move", "plan", "--mode", mode, "--estate", str(estate_path),
         "--format", "json", "--output", str(output)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    memory = PeakMemoryWatch(process.pid)  # ru_maxrss would include this process's own size (see the module)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"m365move plan failed ({process.returncode}): {process.stderr.read().decode()}")  # type: ignore[union-attr]
    process.stderr.close()  # type: ignore[union-attr]
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": wall, "peak_mb": memory.peak_mb()}


def best_command(estate_path: Path, mode: str, output: Path, runs: int) -> dict[str, float]:
    results = [run_command(estate_path, mode, output) for _ in range(runs)]
    return {
        "cpu_s": min(r["cpu_s"] for r in results),
        "wall_s": min(r["wall_s"] for r in results),
        "peak_mb": max(r["peak_mb"] for r in results),
    }


def write_estates(folder: Path, subscriptions: int, yaml_too: bool) -> tuple[Path, Path | None]:
    from m365move.demo.estate_generator import EstateSize, generate_estate

    document = generate_estate(EstateSize.for_subscriptions(subscriptions, 500, 2000), seed=42)
    json_path = folder / "estate.json"
    json_path.write_bytes(orjson.dumps(document))
    yaml_path = None
    if yaml_too:
        import yaml

        yaml_path = folder / "estate.yaml"
        with yaml_path.open("w", encoding="utf-8") as handle:
            yaml.dump(document, handle, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=None, width=120)
    return json_path, yaml_path


def kept_estates(folder: Path, subscriptions: int, yaml_too: bool) -> tuple[Path, Path | None]:
    """The estates of this size in ``folder`` (one sub-folder per size), written there first if missing."""
    folder = folder / f"{subscriptions}"
    json_path, yaml_path = folder / "estate.json", folder / "estate.yaml"
    if not json_path.exists() or (yaml_too and not yaml_path.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        json_path, _ = write_estates(folder, subscriptions, yaml_too)
    return json_path, (yaml_path if yaml_too else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--mode", default="switch-plan", choices=("switch-plan", "new-subscription"))
    parser.add_argument("--runs", type=int, default=2, help="runs of the real command; the best counts")
    parser.add_argument("--no-yaml", action="store_true", help="skip the YAML estate")
    parser.add_argument("--estates", metavar="DIR", type=Path,
                        help="keep the generated estates in DIR and reuse them when they are there (generating "
                             "100k takes minutes)")
    parser.add_argument("--floor-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_child:
        print(json.dumps(measure_floor(Path(args.floor_child[0]), args.floor_child[1])))
        return 0
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        json_path, yaml_path = kept_estates(args.estates, args.subscriptions, not args.no_yaml) if args.estates \
            else write_estates(folder, args.subscriptions, not args.no_yaml)
        floor_out = subprocess.run([sys.executable, __file__, "--floor-child", str(json_path), args.mode],
                                   check=True, capture_output=True, text=True, cwd=ROOT)
        floor = json.loads(floor_out.stdout)
        real = best_command(json_path, args.mode, folder / "plan.json", args.runs)
        from_yaml = best_command(yaml_path, args.mode, folder / "plan-yaml.json", 1) if yaml_path else None
        sizes = f"{json_path.stat().st_size / 1e6:.0f} MB JSON" + (
            f", {yaml_path.stat().st_size / 1e6:.0f} MB YAML" if yaml_path else "")

    floor_s = floor["parse_s"] + floor["plan_s"] + floor["encode_s"]
    print(f"estate: {args.subscriptions} subscriptions, 500 resellers, 2000 plans ({sizes}); mode {args.mode}")
    print(f"floor (CPU s): msgspec parse+validate {floor['parse_s']:.2f} + planning {floor['plan_s']:.2f} "
          f"+ orjson output {floor['encode_s']:.2f} = {floor_s:.2f}")
    print(f"m365move plan, JSON estate: {real['cpu_s']:.2f} CPU s, {real['wall_s']:.2f} wall s, "
          f"peak {real['peak_mb']:.0f} MB")
    ok = True
    ratio = real["cpu_s"] / floor_s
    verdict = "ok" if ratio <= TARGET_FLOOR_RATIO else "MISSED"
    ok &= verdict == "ok"
    print(f"  command / floor = {ratio:.2f} (target ≤ {TARGET_FLOOR_RATIO}): {verdict}")
    verdict = "ok" if real["peak_mb"] <= TARGET_PEAK_MB else "MISSED"
    ok &= verdict == "ok"
    print(f"  peak memory {real['peak_mb']:.0f} MB (target ≤ {TARGET_PEAK_MB} MB): {verdict}")
    if from_yaml:
        yaml_ratio = from_yaml["cpu_s"] / real["cpu_s"]
        verdict = "ok" if yaml_ratio <= TARGET_YAML_RATIO else "MISSED"
        ok &= verdict == "ok"
        print(f"m365move plan, YAML estate: {from_yaml['cpu_s']:.2f} CPU s, {from_yaml['wall_s']:.2f} wall s, "
              f"peak {from_yaml['peak_mb']:.0f} MB")
        print(f"  YAML / JSON = {yaml_ratio:.2f} (target ≤ {TARGET_YAML_RATIO}); YAML / floor = "
              f"{from_yaml['cpu_s'] / floor_s:.2f}: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
