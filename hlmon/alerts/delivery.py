"""Alert delivery: terminal bell and desktop notifications through the terminal, a command,
a webhook.

Terminal notifications travel in the same byte stream as the screen, so they reach a user
watching over SSH: OSC 9 (``ESC ] 9 ; text BEL``: iTerm2, kitty, WezTerm, Ghostty, Windows
Terminal) and OSC 777 (``ESC ] 777 ; notify ; title ; body BEL``: foot, urxvt, VTE, WezTerm,
Ghostty). Inside tmux each sequence is wrapped for passthrough (``ESC P tmux; ... ESC \\``
with every ESC doubled; tmux >= 3.3 also needs ``set -g allow-passthrough on``).

Every text that goes into a sequence is sanitised: control characters (C0, DEL, C1) are
removed so a coin name or a server string cannot end the sequence early and inject its own,
``;`` becomes ``,`` so a title cannot shift the OSC 777 fields, and lengths are capped.

The command and the webhook are async, have timeouts, and report failures as a string (the
caller logs it) instead of raising: a broken notifier must never take the monitor down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hlmon.alerts.engine import Alert
from hlmon.alerts.settings import AlertSettings, check_webhook_url

if TYPE_CHECKING:
    import httpx

ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"

TITLE_MAX = 80
BODY_MAX = 300

# C0 controls, DEL and C1 controls (0x80-0x9f: 8-bit CSI/OSC/ST in some terminals).
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]+")


def sanitize(text: str, limit: int = BODY_MAX) -> str:
    """``text`` safe inside an OSC payload: no control characters, no ``;``, capped length.

    Runs of control characters (newlines included) become one space.
    """
    clean = _CONTROL_RE.sub(" ", text).replace(";", ",").strip()
    if len(clean) > limit:
        clean = clean[: limit - 1].rstrip() + "\u2026"
    return clean


def osc9(text: str) -> str:
    """``ESC ] 9 ; text BEL``: a desktop notification with one line of text."""
    return f"{ESC}]9;{sanitize(text)}{BEL}"


def osc777(title: str, body: str) -> str:
    """``ESC ] 777 ; notify ; title ; body BEL``: a desktop notification with a title."""
    return f"{ESC}]777;notify;{sanitize(title, TITLE_MAX)};{sanitize(body)}{BEL}"


def tmux_wrap(seq: str) -> str:
    """Wrap ``seq`` for tmux passthrough: ``ESC P tmux; <seq, each ESC doubled> ESC \\``."""
    return f"{ESC}Ptmux;{seq.replace(ESC, ESC + ESC)}{ST}"


def in_tmux(env: Mapping[str, str] | None = None) -> bool:
    """True when running inside tmux (``$TMUX`` is set and not empty)."""
    return bool((os.environ if env is None else env).get("TMUX"))


class TerminalNotifier:
    """Builds what to write to the terminal for an alert: bell and OSC notifications."""

    def __init__(
        self,
        *,
        bell: bool = True,
        desktop: bool = True,
        osc: Sequence[int] = (9, 777),
        tmux: bool | None = None,
    ) -> None:
        """
        Args:
            bell: ring the terminal bell (BEL).
            desktop: send desktop notifications (OSC sequences).
            osc: which of OSC 9 and OSC 777 to send. Terminals that understand both show two.
            tmux: wrap for tmux passthrough; None: when ``$TMUX`` is set.
        """
        self.bell = bell
        self.desktop = desktop
        self.osc = tuple(osc)
        self.tmux = in_tmux() if tmux is None else tmux

    def desktop_sequences(self, alert: Alert) -> str:
        """The OSC notification sequences for ``alert`` (tmux-wrapped if needed); no bell."""
        if not self.desktop:
            return ""
        seqs: list[str] = []
        for number in self.osc:
            if number == 9:
                seqs.append(osc9(f"{alert.title}: {alert.body}"))
            elif number == 777:
                seqs.append(osc777(alert.title, alert.body))
        if self.tmux:
            seqs = [tmux_wrap(s) for s in seqs]
        return "".join(seqs)

    def sequences(self, alert: Alert) -> str:
        """Everything to write for ``alert``: the bell (plain: tmux forwards it) then the OSCs."""
        return (BEL if self.bell else "") + self.desktop_sequences(alert)


def _fill_template(arg: str, values: Mapping[str, str]) -> str:
    # Plain replacement, not str.format: braces elsewhere in the argument stay as written and
    # a template cannot reach attributes ({title.__class__}).
    for name, value in values.items():
        arg = arg.replace("{" + name + "}", value)
    return arg


def alert_fields(alert: Alert) -> dict[str, str]:
    """The placeholders a command template can use: title, body, level, rule."""
    return {
        "title": sanitize(alert.title, TITLE_MAX),
        "body": sanitize(alert.body),
        "level": alert.level,
        "rule": sanitize(alert.rule_id, TITLE_MAX),
    }


class CommandNotifier:
    """Runs a command per alert (no shell), e.g. ``["notify-send", "{title}", "{body}"]``."""

    def __init__(self, argv: Sequence[str], *, timeout: float = 5.0) -> None:
        """
        Args:
            argv: program and arguments; ``{title}``, ``{body}``, ``{level}``, ``{rule}`` are
                replaced in each argument.
            timeout: seconds before the command is killed.
        """
        if not argv or not argv[0]:
            raise ValueError("command needs a program")
        self.argv = tuple(argv)
        self.timeout = timeout

    def command_for(self, alert: Alert) -> list[str]:
        """The argument vector for ``alert``."""
        values = alert_fields(alert)
        return [_fill_template(arg, values) for arg in self.argv]

    async def send(self, alert: Alert) -> str | None:
        """Run the command; None on success, else what went wrong. Never raises."""
        argv = self.command_for(alert)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            return f"alert command {argv[0]!r} failed to start: {exc.strerror or exc}"
        try:
            _, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            return f"alert command {argv[0]!r} killed after {self.timeout:g} s"
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise
        if proc.returncode != 0:
            tail = sanitize(err.decode("utf-8", "replace"), 120) if err else ""
            why = f": {tail}" if tail else ""
            return f"alert command {argv[0]!r} exited with {proc.returncode}{why}"
        return None


def webhook_payload(alert: Alert) -> dict[str, Any]:
    """The JSON posted for an alert (``text`` makes it readable by Slack-style hooks as is)."""
    return {
        "text": f"{alert.title}: {alert.body}",
        "title": alert.title,
        "body": alert.body,
        "level": alert.level,
        "rule": alert.rule_id,
        "time": alert.time,
    }


class WebhookNotifier:
    """POSTs each alert as JSON to a URL (https, or http to loopback)."""

    def __init__(
        self, url: str, *, timeout: float = 5.0, client: httpx.AsyncClient | None = None
    ) -> None:
        """
        Args:
            url: the webhook; checked with :func:`check_webhook_url`.
            timeout: seconds for the whole request.
            client: an ``httpx.AsyncClient`` to use (then not closed here).
        """
        self.url = check_webhook_url(url)
        self.timeout = timeout
        self._client = client
        self._own_client = client is None

    def _host(self) -> str:
        # Messages name the host only: webhook paths often carry a secret token.
        return urllib.parse.urlsplit(self.url).hostname or "?"

    async def send(self, alert: Alert) -> str | None:
        """POST the alert; None on a 2xx answer, else what went wrong. Never raises."""
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        try:
            resp = await self._client.post(
                self.url,
                content=json.dumps(webhook_payload(alert)),
                headers={"content-type": "application/json"},
                timeout=self.timeout,
            )
        except httpx.TimeoutException:
            return f"alert webhook {self._host()}: no answer within {self.timeout:g} s"
        except httpx.HTTPError as exc:
            return f"alert webhook {self._host()}: {type(exc).__name__}"
        if not 200 <= resp.status_code < 300:
            return f"alert webhook {self._host()}: HTTP {resp.status_code}"
        return None

    async def aclose(self) -> None:
        """Close the HTTP client if this notifier made it."""
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None


class AlertOutputs:
    """Every delivery configured in :class:`~hlmon.alerts.settings.AlertSettings`.

    The UI writes :meth:`terminal_text` to the terminal itself (it owns the output stream) and
    schedules :meth:`send_external` as a background task for the command and the webhook.
    """

    def __init__(
        self,
        terminal: TerminalNotifier,
        command: CommandNotifier | None = None,
        webhook: WebhookNotifier | None = None,
    ) -> None:
        self.terminal = terminal
        self.command = command
        self.webhook = webhook

    @classmethod
    def from_settings(
        cls, settings: AlertSettings, *, env: Mapping[str, str] | None = None
    ) -> AlertOutputs:
        """Build the notifiers ``settings`` asks for; ``env`` decides tmux (default os.environ)."""
        terminal = TerminalNotifier(
            bell=settings.bell,
            desktop=settings.desktop,
            osc=settings.desktop_osc,
            tmux=in_tmux(env),
        )
        command = (
            CommandNotifier(settings.command, timeout=settings.timeout_s)
            if settings.command
            else None
        )
        webhook = (
            WebhookNotifier(settings.webhook, timeout=settings.timeout_s)
            if settings.webhook
            else None
        )
        return cls(terminal, command, webhook)

    @property
    def has_external(self) -> bool:
        """A command or a webhook is configured."""
        return self.command is not None or self.webhook is not None

    def terminal_text(self, alert: Alert) -> str:
        """Bell and OSC sequences to write for ``alert`` ('' when both are off)."""
        return self.terminal.sequences(alert)

    async def send_external(self, alert: Alert) -> list[str]:
        """Run the command and post the webhook concurrently; the failures, as log lines."""
        sends = [n.send(alert) for n in (self.command, self.webhook) if n is not None]
        results = await asyncio.gather(*sends)
        return [r for r in results if r is not None]

    async def aclose(self) -> None:
        """Release the webhook's HTTP client."""
        if self.webhook is not None:
            await self.webhook.aclose()
