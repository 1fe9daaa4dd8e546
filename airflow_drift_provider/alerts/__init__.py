"""Alert rules, channels and deduplicated delivery."""
