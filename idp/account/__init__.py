"""Accounts, organisations and memberships."""
