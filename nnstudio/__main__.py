from nnstudio.cli import main

if __name__ == "__main__":  # (the training process's start method may import this module)
    raise SystemExit(main())
