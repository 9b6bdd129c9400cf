"""Reminders that do the chasing: employees' self-checks and lessons, the administrators' weekly
digest, 個人情報保護委員会 report deadlines and unacknowledged incident alerts; and 「通知オフ」."""
