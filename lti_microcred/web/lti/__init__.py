"""LTI-facing endpoints: login, launch, keys, Dynamic Registration and the Deep Linking picker."""
