# Two commands on a fresh machine: `make demo` (the whole pipeline on the built-in example) and `make test`.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
MCUDEPLOY := $(VENV)/bin/mcudeploy
DEMO := build/demo

.PHONY: demo test bench toolchain clean

# Python 3.11 venv with the package and its pinned dependencies; the Arm toolchain and QEMU from Debian.
$(VENV)/.installed: pyproject.toml
	scripts/install-toolchain.sh
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(MCUDEPLOY) example --output $(DEMO)/kws_demo.tflite --force
	$(MCUDEPLOY) inspect $(DEMO)/kws_demo.tflite
	$(MCUDEPLOY) run $(DEMO)/kws_demo.tflite --input $(DEMO)/kws_demo_input.npy --output $(DEMO)/kws_demo_output.npy --force
	$(MCUDEPLOY) analyze $(DEMO)/kws_demo.tflite --device STM32F446RE
	$(MCUDEPLOY) generate $(DEMO)/kws_demo.tflite --device STM32F446RE --output $(DEMO)/kws_demo_c --force
	$(MCUDEPLOY) validate $(DEMO)/kws_demo.tflite --target host --target m4 --inputs $(DEMO)/kws_demo_input.npy
	$(MCUDEPLOY) estimate $(DEMO)/kws_demo.tflite --device STM32F446RE
	$(MCUDEPLOY) estimate $(DEMO)/kws_demo.tflite --device STM32F446RE --cores

test: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench
	$(PYTHON) -m pytest -q

bench: $(VENV)/.installed
	for script in bench/*.py; do $(PYTHON) $$script || exit 1; done

toolchain:
	scripts/install-toolchain.sh

clean:
	rm -rf build $(VENV)
