"""Build src/kqlhunt/rules/data/attack_techniques.json from MITRE's ATT&CK STIX data (github.com/mitre/cti).

    python scripts/build_attack_data.py /path/to/mitre-cti      # a checkout, or a bare git dir (reads HEAD)

Keeps, for every Enterprise technique and sub-technique: its name, tactics (display names, in the kill
chain order of the matrix), and whether MITRE revoked or deprecated it (so a rule citing it can be told).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/kqlhunt/rules/data/attack_techniques.json"


def _files(root: Path, folder: str) -> list[dict]:
    if (root / folder).is_dir():
        return [json.loads(p.read_text("utf-8")) for p in sorted((root / folder).glob("*.json"))]
    names = subprocess.run(["git", "-C", str(root), "ls-tree", "--name-only", "HEAD", f"{folder}/"],
                           check=True, capture_output=True, text=True).stdout.split()
    batch = subprocess.run(["git", "-C", str(root), "cat-file", "--batch"], input="".join(
        f"HEAD:{n}\n" for n in names), check=True, capture_output=True, text=True).stdout
    out, pos = [], 0
    while pos < len(batch):
        header_end = batch.index("\n", pos)
        size = int(batch[pos:header_end].split()[2])
        body = batch.encode("utf-8")  # sizes are bytes: slice on the encoded text
        start = len(batch[:header_end + 1].encode("utf-8"))
        out.append(json.loads(body[start:start + size].decode("utf-8")))
        pos = len(body[:start + size + 1].decode("utf-8"))
    return out


def main(root: str) -> None:
    base = Path(root)
    tactics = {}
    for obj in _files(base, "enterprise-attack/x-mitre-tactic"):
        for o in obj.get("objects", [obj]):
            if o.get("type") == "x-mitre-tactic":
                tactics[o["x_mitre_shortname"]] = o["name"]
    techniques: dict[str, dict] = {}
    for obj in _files(base, "enterprise-attack/attack-pattern"):
        for o in obj.get("objects", [obj]):
            if o.get("type") != "attack-pattern":
                continue
            tid = next((r["external_id"] for r in o.get("external_references", [])
                        if r.get("source_name") == "mitre-attack"), None)
            if tid is None:
                continue
            phases = [p["phase_name"] for p in o.get("kill_chain_phases", [])
                      if p.get("kill_chain_name") == "mitre-attack"]
            techniques[tid] = {"name": o["name"], "tactics": [tactics.get(p, p) for p in phases],
                               **({"revoked": True} if o.get("revoked") else {}),
                               **({"deprecated": True} if o.get("x_mitre_deprecated") else {})}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    data = {"source": "mitre/cti enterprise-attack", "tactics": sorted(set(tactics.values())),
            "techniques": dict(sorted(techniques.items()))}
    OUT.write_text(json.dumps(data, indent=0, sort_keys=False, ensure_ascii=False) + "\n", "utf-8")
    print(f"{len(techniques)} techniques -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
