"""Engagement analytics over the counted persons: series, lifecycle, retention, stickiness,
activity levels, segments, account health, growth, seasonality and forecasts."""
