"""Operations: health and readiness endpoints, the staff status page, structured logs with request
ids, and error reports to Sentry."""
