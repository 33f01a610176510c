# mongo-pipes: one non-recursive Makefile.
#   make            build the tools into $(B)/bin
#   make check      install what the tests need, run unit + CLI tests, then
#                   again under AddressSanitizer/UBSan; ends "N passed, ..."
#   make install    PREFIX=/usr/local DESTDIR=
#   make deps       install missing Debian build/test packages
#   V=1             show the commands

VERSION  := 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
EXAMPLEDIR  ?= $(PREFIX)/share/mongo-pipes/examples

B        ?= build
CC       ?= cc
PKGS     := libmongoc-1.0 libbson-1.0 libcrypto zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
WERROR   ?= -Werror
SAN      ?=
MP_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -Wno-missing-field-initializers -Wno-format-truncation \
	-Ilibcommon $(PKG_CFLAGS) -DMP_VERSION=\"$(VERSION)\" -MMD -MP $(SAN) $(CFLAGS)
MP_LDLIBS := $(PKG_LIBS) -lpthread -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC   := $(wildcard libcommon/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o)
LIB       := $(B)/libcommon.a
# A tool is tools/NAME.c, or a folder tools/NAME/ of several files (main.c and
# the rooms of its work), linked into one program.
TOOL_SRC  := $(wildcard tools/*.c)
TOOL_DIRS := $(patsubst tools/%/main.c,%,$(wildcard tools/*/main.c))
TOOL_DIR_SRC := $(foreach d,$(TOOL_DIRS),$(wildcard tools/$(d)/*.c))
TOOLS     := $(TOOL_SRC:tools/%.c=$(B)/bin/%) $(TOOL_DIRS:%=$(B)/bin/%)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNITS     := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
HELP_SRC  := $(wildcard tests/helpers/*.c)
HELPERS   := $(HELP_SRC:tests/helpers/%.c=$(B)/tests/helpers/%)
MANPAGES  := $(wildcard man/*.[1-8])

.PHONY: all check check-build deps install uninstall clean testbed mongo-tools bench demo faults
all: $(TOOLS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(MP_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/bin/%: $(B)/tools/%.o $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SAN) $(CFLAGS) -o $@ $^ $(MP_LDLIBS)

define tool_dir_rule
$(B)/bin/$(1): $(patsubst %.c,$(B)/%.o,$(wildcard tools/$(1)/*.c)) $(LIB)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(SAN) $$(CFLAGS) -o $$@ $$^ $$(MP_LDLIBS)
endef
$(foreach d,$(TOOL_DIRS),$(eval $(call tool_dir_rule,$(d))))

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SAN) $(CFLAGS) -o $@ $^ $(MP_LDLIBS)

$(B)/tests/helpers/%: $(B)/tests/helpers/%.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SAN) $(CFLAGS) -o $@ $^ $(MP_LDLIBS)

# Everything a test run needs from one build directory.
check-build: $(TOOLS) $(UNITS) $(HELPERS)

deps:
	@build-aux/deps

testbed:
	@tests/server/setup

# The main job in one command, on two local test servers (build-aux/demo).
demo: deps
	@$(MAKE) --no-print-directory check-build
	@build-aux/demo

mongo-tools:
	@tests/mongo-tools/build

# The network fault campaign: every tool through the fault proxy, one
# fault at a time, and a table of how each ended (bench/run-faults).
faults: deps testbed
	@bench/run-faults

check: deps
	@$(MAKE) --no-print-directory check-build
	@$(MAKE) --no-print-directory B=build-asan CFLAGS="-O1 -g" \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" check-build
	@tests/run --build $(B) --asan-build build-asan

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	$(if $(TOOLS),install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR))
	$(if $(wildcard man/*.1),install -m 644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1)
	$(if $(wildcard man/*.7),install -m 644 $(wildcard man/*.7) $(DESTDIR)$(MANDIR)/man7)
	$(if $(wildcard completions/bash/*),install -m 644 $(wildcard completions/bash/*) $(DESTDIR)$(BASHCOMPDIR))
	$(if $(wildcard completions/zsh/*),install -m 644 $(wildcard completions/zsh/*) $(DESTDIR)$(ZSHCOMPDIR))
	install -d $(DESTDIR)$(EXAMPLEDIR)
	$(if $(wildcard examples/*.sh),install -m 755 $(wildcard examples/*.sh) $(DESTDIR)$(EXAMPLEDIR))
	$(if $(wildcard examples/*.py),install -m 755 $(wildcard examples/*.py) $(DESTDIR)$(EXAMPLEDIR))
	$(if $(wildcard examples/*.service),install -m 644 $(wildcard examples/*.service) $(DESTDIR)$(EXAMPLEDIR))
	$(if $(wildcard examples/k8s/*.yaml),install -d $(DESTDIR)$(EXAMPLEDIR)/k8s && install -m 644 $(wildcard examples/k8s/*.yaml) $(DESTDIR)$(EXAMPLEDIR)/k8s)

uninstall:
	rm -f $(TOOLS:$(B)/bin/%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(MANPAGES:man/%=$(DESTDIR)$(MANDIR)/man1/%) $(MANPAGES:man/%=$(DESTDIR)$(MANDIR)/man7/%)
	rm -f $(patsubst completions/bash/%,$(DESTDIR)$(BASHCOMPDIR)/%,$(wildcard completions/bash/*))
	rm -f $(patsubst completions/zsh/%,$(DESTDIR)$(ZSHCOMPDIR)/%,$(wildcard completions/zsh/*))
	rm -rf $(DESTDIR)$(EXAMPLEDIR)

clean:
	rm -rf build build-asan

-include $(LIB_OBJ:.o=.d) $(TOOL_SRC:%.c=$(B)/%.d) $(TOOL_DIR_SRC:%.c=$(B)/%.d) $(UNIT_SRC:%.c=$(B)/%.d) $(HELP_SRC:%.c=$(B)/%.d)
.SECONDARY:

# ---- fuzzing: libFuzzer targets (tests/fuzz/), run by t0120 and bench/run-fuzz ----
#   make fuzz       build-fuzz/fuzz_<name>, one per reader, with clang and
#                   libFuzzer (Debian: clang, libclang-rt-<version>-dev)
# libcommon is compiled again with clang and the same sanitizers; a tiny read
# chunk makes small inputs cross every refill of the document stream reader.
FUZZ_B       ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SAN     ?= -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -Wno-missing-field-initializers \
	-Ilibcommon $(PKG_CFLAGS) -DMP_VERSION=\"$(VERSION)\" -DDOCSTREAM_READ_CHUNK=61 -MMD -MP \
	-O1 -g $(FUZZ_SAN)
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_TARGETS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_B)/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_B)/%.o)

.PHONY: fuzz clean-fuzz
fuzz: $(FUZZ_TARGETS)

$(FUZZ_LIB_OBJ): $(FUZZ_B)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CLANG   $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_B)/libcommon.a: $(FUZZ_LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_TARGETS): $(FUZZ_B)/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_B)/libcommon.a
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_B)/libcommon.a $(MP_LDLIBS)

clean-fuzz:
	rm -rf $(FUZZ_B)
clean: clean-fuzz

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_TARGETS:=.d)
