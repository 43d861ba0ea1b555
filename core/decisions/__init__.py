"""Deciding a case: decisions, appeals, and the formal notices that carry them."""
