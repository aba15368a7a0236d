"""A local, faithful stand-in for Slack: it is "Slack" for every test and the offline demo.

``SlackStandIn`` serves the Web API, response_urls, file uploads and Socket Mode; ``SlackDriver``
plays Slack and its users acting on the bot; ``Workspace`` holds who exists and who sees what.
Nothing here imports the bot, so the stand-in encodes Slack's behaviour, not the bot's wishes.
"""

from .blockkit import validate_message_blocks, validate_view
from .chaos import Chaos
from .driver import DriverResponse, SlackDriver
from .ratelimit import RateLimits
from .server import ApiError, Call, Message, Seen, SlackStandIn, UploadedFile
from .workspace import Channel, User, Usergroup, Workspace

__all__ = [
    "ApiError",
    "Call",
    "Channel",
    "Chaos",
    "DriverResponse",
    "Message",
    "RateLimits",
    "Seen",
    "SlackDriver",
    "SlackStandIn",
    "UploadedFile",
    "User",
    "Usergroup",
    "Workspace",
    "validate_message_blocks",
    "validate_view",
]
