"""The Hyperliquid wire protocol: subscriptions, typed messages, decode, /info requests.

Pure: no I/O and no Textual. Importing this package loads msgspec and the structs only.
"""

from hlmon.protocol.decode import decode
from hlmon.protocol.errors import ProtocolError
from hlmon.protocol.info import InfoRequest, decode_response, to_message
from hlmon.protocol.messages import KNOWN_CHANNELS, KnownMsg, Message, UnknownMsg
from hlmon.protocol.repair import Tolerance, tolerance_of
from hlmon.protocol.subscriptions import (
    PING_FRAME,
    Subscription,
    ack_matches,
    canonical_key,
    message_sub_key,
    post_frame,
    subscribe_frame,
    unsubscribe_frame,
)

__all__ = [
    "KNOWN_CHANNELS",
    "PING_FRAME",
    "InfoRequest",
    "KnownMsg",
    "Message",
    "ProtocolError",
    "Subscription",
    "Tolerance",
    "UnknownMsg",
    "ack_matches",
    "canonical_key",
    "decode",
    "decode_response",
    "message_sub_key",
    "post_frame",
    "subscribe_frame",
    "to_message",
    "tolerance_of",
    "unsubscribe_frame",
]
