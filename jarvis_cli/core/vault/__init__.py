"""The key vault: provider API keys sealed with AES-256-GCM under a master key.

Owns where the master key lives (`master_keys`: env, OS keyring, key file),
sealing and opening (`sealing`), the vault's records and label rules (`records`),
`KeyManager` (`keys`: add, rotate, delete, resolve), checking a key with its
provider (`check`), `keys validate` (`validation`) and crash-safe `rekey`.

May import `providers` (to ask a provider about a key), `context`, `store`,
`errors` and `redact`. Never `registry`, `selection` or `runs`.
"""
