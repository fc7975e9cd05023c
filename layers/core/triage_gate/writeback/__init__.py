"""Write-back: decisions land in the ticket (fields, tags, an internal note), exactly once in effect."""
