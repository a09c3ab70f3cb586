"""What a chaos run measured, when it counts as failed, and the table ``make chaos`` prints."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from benchmarks.chaos.plan import BURST_FRAMES, RECOVERY_DEADLINE
from benchmarks.common import print_table


@dataclass
class FaultRecord:
    """What one fault cost."""

    kind: str
    recovery_s: float | None = None
    """Fault end -> live data again (None: not recovered within the deadline)."""
    detect_s: float | None = None
    """Stalls: stall start -> socket declared dead."""
    note: str = ""


@dataclass
class ChaosReport:
    """Everything the run measured (``as_dict`` is the JSON written)."""

    seed: int
    plan: str
    duration_s: float = 0.0
    faults: list[FaultRecord] = field(default_factory=list)
    fills_made: int = 0
    fills_held: int = 0
    fills_missing: int = 0
    fills_doubled: int = 0
    fills_extra: int = 0
    fills_mismatched: int = 0
    fills_forced: int = 0
    fills_forced_during_outage: int = 0
    reconnects: int = 0
    dead_detected: int = 0
    frames_total: int = 0
    frames_rejected: int = 0
    malformed_sent: int = 0
    server_errors: int = 0
    crashes: int = 0
    crash_details: list[str] = field(default_factory=list)
    sim_errors: int = 0
    odd_disconnect_reasons: list[str] = field(default_factory=list)
    burst_frames_received: int = 0
    burst_ingest_s: float | None = None
    equity_hlmon: str | None = None
    equity_truth: str | None = None
    equity_match: bool = False
    positions_match: bool = False
    orders_match: bool = False
    position_diffs: list[str] = field(default_factory=list)
    unrecovered: int = 0
    msgs_per_s_after_back_jump: float | None = None
    tui: dict[str, Any] = field(default_factory=dict)

    @property
    def worst_recovery_s(self) -> float | None:
        vals = [f.recovery_s for f in self.faults if f.recovery_s is not None]
        return max(vals) if vals else None

    @property
    def worst_stall_detect_s(self) -> float | None:
        vals = [f.detect_s for f in self.faults if f.detect_s is not None]
        return max(vals) if vals else None

    def by_kind(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for rec in self.faults:
            row = out.setdefault(rec.kind, {"count": 0, "worst_recovery_s": None})
            row["count"] += 1
            if rec.recovery_s is not None:
                worst = max(row["worst_recovery_s"] or 0, rec.recovery_s)
                row["worst_recovery_s"] = round(worst, 3)
            if rec.detect_s is not None:
                row["worst_detect_s"] = round(max(row.get("worst_detect_s", 0), rec.detect_s), 3)
        return out

    @property
    def failures(self) -> list[str]:
        """Why the run failed (empty: passed)."""
        why = []
        if self.fills_missing:
            why.append(f"{self.fills_missing} fill(s) missing")
        if self.fills_doubled:
            why.append(f"{self.fills_doubled} fill(s) doubled")
        if self.fills_extra:
            why.append(f"{self.fills_extra} fill(s) hlmon holds that the simulator never made")
        if self.fills_mismatched:
            why.append(f"{self.fills_mismatched} fill(s) differ from the truth")
        if not self.equity_match:
            why.append(f"equity {self.equity_hlmon} != truth {self.equity_truth}")
        if not self.positions_match:
            why.append(f"positions differ: {self.position_diffs}")
        if not self.orders_match:
            why.append("open orders differ")
        if self.crashes:
            why.append(f"{self.crashes} crash(es): {self.crash_details[:3]}")
        if self.unrecovered:
            why.append(f"{self.unrecovered} fault(s) never recovered from")
        if self.tui.get("failed"):
            why.append(f"TUI scenario: {self.tui['failed']}")
        return why

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["faults"] = self.by_kind()
        d["fault_sequence"] = [f.kind for f in self.faults]
        d["faults_injected"] = len(self.faults)
        d["worst_recovery_s"] = round_s(self.worst_recovery_s)
        d["worst_stall_detect_s"] = round_s(self.worst_stall_detect_s)
        d["passed"] = not self.failures
        d["failures"] = self.failures
        return d


def round_s(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


def yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def fmt_s(v: float | None) -> str:
    return "  never" if v is None else f"{v:6.2f}s"


def print_report(rep: ChaosReport) -> None:
    kinds = ", ".join(f"{k} {v['count']}" for k, v in rep.by_kind().items())
    made = (
        f"by the simulator during the run ({rep.fills_forced} forced, "
        f"{rep.fills_forced_during_outage} of them while the socket was down)"
    )
    burst = (
        f"frames received ({BURST_FRAMES} sent in 1 s); all applied "
        f"{fmt_s(rep.burst_ingest_s).strip()} after the first"
    )
    rows: list[tuple[str, Any, str]] = [
        ("faults injected", len(rep.faults), kinds),
        ("duration_s", rep.duration_s, "wall time of the engine run"),
        ("fills_made", rep.fills_made, made),
        ("fills_held", rep.fills_held, "of those, held by hlmon at the end"),
        ("fills_missing", rep.fills_missing, "in sim.truth, not in hlmon (must be 0)"),
        ("fills_doubled", rep.fills_doubled, "held twice (must be 0)"),
        ("fills_extra", rep.fills_extra, "held by hlmon, never made (must be 0)"),
        ("fills_mismatched", rep.fills_mismatched, "px/sz/time/side/pnl/fee differ (must be 0)"),
        ("equity match", yes(rep.equity_match), f"{rep.equity_hlmon} vs {rep.equity_truth}"),
        ("positions match", yes(rep.positions_match), "coin, szi, entryPx vs truth, every dex"),
        ("open orders match", yes(rep.orders_match), "oids vs truth, every dex"),
        ("reconnects", rep.reconnects, f"survived; {rep.dead_detected} by the heartbeat"),
        ("worst_recovery_s", rep.worst_recovery_s, "fault end -> live + fresh periodic feeds"),
        ("worst_stall_detect_s", rep.worst_stall_detect_s, "stall start -> declared dead"),
        ("frames_rejected", rep.frames_rejected, f"of {rep.malformed_sent} malformed sent"),
        ("server error frames", rep.server_errors, "logged, connection kept"),
        ("burst", rep.burst_frames_received, burst),
        ("msg/s after clock -", rep.msgs_per_s_after_back_jump, "store clock stepped back"),
        ("crashes", rep.crashes, "unhandled exceptions in hlmon (must be 0)"),
        ("sim errors", rep.sim_errors, "unhandled exceptions in the simulator (rig)"),
        ("unrecovered faults", rep.unrecovered, f"not live within {RECOVERY_DEADLINE:g} s"),
    ]
    if rep.tui:
        if "skipped" in rep.tui:
            rows.append(("TUI in tmux", "skipped", rep.tui["skipped"]))
        else:
            rows.append((
                "TUI in tmux", "FAIL" if rep.tui.get("failed") else "ok",
                f"RECONNECTING after {rep.tui.get('reconnecting_shown_after_s')} s, "
                f"STALE after {rep.tui.get('stale_shown_after_s')} s, LIVE again "
                f"after {rep.tui.get('live_again_after_s')} s, exit {rep.tui.get('exit_status')}",
            ))  # fmt: skip
    print_table(f"hlmon chaos run (seed {rep.seed}, plan {rep.plan})", rows)
    print("\nper fault kind (worst recovery s):")
    for kind, row in rep.by_kind().items():
        extra = f", worst detect {row['worst_detect_s']} s" if "worst_detect_s" in row else ""
        print(f"  {kind:<12} x{row['count']:<3} worst recovery {row['worst_recovery_s']} s{extra}")
    fails = rep.failures
    print("\nRESULT: " + ("PASS" if not fails else "FAIL: " + "; ".join(fails)))
