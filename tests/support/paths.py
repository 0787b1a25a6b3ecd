"""Where the repository and the shared data lie, wherever a test module sits.

The shared data is ``../shared/data`` beside the checkout, or ``ECC_SHARED_DATA`` when set (a
git worktree, say), as for ``ecc bench forecast --suite shared``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("ECC_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")
