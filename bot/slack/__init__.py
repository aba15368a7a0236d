"""Talking to Slack: the Web API client, replies to response_urls, who holds which role, who is
a person, and safe mrkdwn for everything shown."""
