"""Money tied to accounts and partners: partner pricing and cashback (and, later, the prepaid ledger)."""
