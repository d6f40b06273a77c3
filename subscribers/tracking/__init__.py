"""Tracking: what the ESP reports about each sent message, and what the admin shows of it.

- `webhooks.py` records Anymail's tracking events per delivery (bounces and complaints also
  suppress the address);
- `urls.py` routes the tracking webhooks, guarded so junk never makes a 500;
- `analytics.py` sums one send's deliveries and events for its admin page.
"""
