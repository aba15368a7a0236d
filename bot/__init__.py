"""Line of Sight: a Slack bot that keeps a children's service's leaders and staff in sight."""

__version__ = "0.1.0"
