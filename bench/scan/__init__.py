"""Inventory benchmark: full-inventory wall time and peak RSS against moto, side by side with Prowler."""
