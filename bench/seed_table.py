"""The seed's table, reproduced: MobileNetV2 0.35 at 96x96 int8 on an M4, an M7, an M55 and an M55 + Ethos-U55-256.

The same as `mcudeploy estimate --seed-table` (the model from `mcudeploy.examples.mobilenet`, the rows
from `mcudeploy.npu.seed_table`), printed as the README's table.

    PYTHONPATH=src python bench/seed_table.py [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from mcudeploy.examples import build_mobilenet_v2
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.npu.seed_table import seed_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    graph = build_mobilenet_v2()
    with tempfile.TemporaryDirectory(prefix="mcudeploy-seed-") as folder:
        model = Path(folder) / f"{graph.name}.tflite"
        model.write_bytes(write_tflite(graph))
        rows = seed_table(graph, model)
    if parser.parse_args().json:
        print(json.dumps(rows, indent=2))
        return
    print(f"MobileNetV2 0.35 at 96x96 int8, {rows[0]['macs']:,} MACs")
    print("| | ours | the seed's approximate figure |\n|---|---|---|")
    for row in rows:
        print(f"| {row['row']} ({row['part']}) | {row['ms']:.2f} ms | ~{row['seed_ms']:g} ms |")


if __name__ == "__main__":
    main()
