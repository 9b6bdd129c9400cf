"""LINE: Messaging API webhooks in, messages out (line-bot-sdk v3)."""
