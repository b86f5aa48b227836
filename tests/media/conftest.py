from tests.accounts.conftest import media_storage

__all__ = ["media_storage"]
