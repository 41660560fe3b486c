"""rescue package."""
