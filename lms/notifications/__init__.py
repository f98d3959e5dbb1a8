"""Mail people expect about their live sessions and certificates (see ``services`` and ``jobs``)."""
