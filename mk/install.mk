# mk/install.mk - installing ncsn.h system-wide (docs/install.md). Included from the Makefile.
#   make install [PREFIX=/usr/local] [DESTDIR=]   ncsn.h, the ncsn command, ncsn(1), ncsn.pc and
#                                                 the CMake package (find_package(ncsn): ncsn::ncsn)
#   make uninstall [the same PREFIX and DESTDIR]  removes exactly those (mk/install.sh)
#   make man                                      $(BUILD)/ncsn.1 from `ncsn --help` (mk/man.sh)
#   make check-install                            install into a temporary DESTDIR, build and run a
#                                                 consumer by pkg-config, find_package and
#                                                 FetchContent, uninstall, compare the trees
# The installed command is built with the Makefile's flags: ARCH=-march=native by default, so
# `make install ARCH=` (or ARCH=-march=x86-64-v2 ...) for a command that runs on other machines.
PREFIX       ?= /usr/local
prefix       ?= $(PREFIX)
bindir       ?= $(prefix)/bin
includedir   ?= $(prefix)/include
libdir       ?= $(prefix)/lib
datadir      ?= $(prefix)/share
mandir       ?= $(datadir)/man
man1dir      ?= $(mandir)/man1
pkgconfigdir ?= $(libdir)/pkgconfig
cmakedir     ?= $(libdir)/cmake/ncsn
manifestdir  ?= $(datadir)/ncsn
# the built command (its source moves; this is the one name the install rules use)
NCSN_CLI     ?= $(BUILD)/ncsn
NCSN_VERSION := $(shell sed -n 's/^\#define NCSN_VERSION_STRING "\(.*\)"/\1/p' ncsn.h)
INSTALL_ENV   = DESTDIR="$(DESTDIR)" prefix="$(prefix)" bindir="$(bindir)" includedir="$(includedir)" \
                pkgconfigdir="$(pkgconfigdir)" cmakedir="$(cmakedir)" man1dir="$(man1dir)" \
                manifestdir="$(manifestdir)" NCSN_VERSION="$(NCSN_VERSION)" \
                NCSN_CLI="$(NCSN_CLI)" NCSN_MAN="$(BUILD)/ncsn.1"

.PHONY: install uninstall man check-install

# the man page is the command's own help text (mk/man.sh runs it), so it follows every change
$(BUILD)/ncsn.1: $(NCSN_CLI) mk/man.sh
	sh mk/man.sh $(NCSN_CLI) > $@.tmp && mv $@.tmp $@
man: $(BUILD)/ncsn.1

install: $(NCSN_CLI) $(BUILD)/ncsn.1
	@$(INSTALL_ENV) sh mk/install.sh install

uninstall:
	@$(INSTALL_ENV) sh mk/install.sh uninstall

check-install: deps-install $(NCSN_CLI) $(BUILD)/ncsn.1
	CC="$(CC)" MAKE="$(MAKE)" sh tests/install/check.sh $(BUILD)

# ---- the shared library, for other languages (python/ncsn_ctypes.py; docs/python.md) ----------
#   make shared          $(BUILD)/libncsn.so: ncsn.h's implementation with -fvisibility=hidden and
#                        NCSN_BUILD_SHARED, so it exports the API functions and nothing else
#   make check-shared    tests/shared/exports.sh (exactly the API exported, no ncsn__ symbol), then
#                        the ctypes example against the ncsn command (same model bits, same samples)
PYTHON ?= /usr/bin/python3
.PHONY: shared check-shared
$(BUILD)/libncsn.so: ncsn.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -DNCSN_IMPLEMENTATION -DNCSN_BUILD_SHARED -shared -x c ncsn.h \
	  -o $@ $(LDLIBS)   # no soname: no libncsn.so.N is installed or built (a program linked with -lncsn needs libncsn.so)
shared: $(BUILD)/libncsn.so

check-shared: deps-shared $(BUILD)/libncsn.so $(NCSN_CLI)
	sh tests/shared/exports.sh $(BUILD)/libncsn.so ncsn.h
	$(PYTHON) tests/shared/check_ctypes.py $(BUILD)/libncsn.so $(NCSN_CLI)
