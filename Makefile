# smtpd: plain GNU make build.  `make`, `make check`, `make run`,
# `make bench`, `make fuzz`, `make install DESTDIR= PREFIX=`.

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DESTDIR	?=

CC	?= cc
YACC	:= byacc
PKGS	:= libtls libevent libbsd-overlay libcares
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	:= -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wformat=2 \
	   -Wmissing-prototypes
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE $(WARN) $(PKG_CFLAGS) -I. -Icommon
LDLIBS	+= $(PKG_LIBS) -lcrypt
ifeq ($(SANITIZE),1)
# gcc's -Wformat-truncation/-overflow give false positives under the
# sanitizers.
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -Wno-format-truncation -Wno-format-overflow
LDFLAGS	+= -fsanitize=address,undefined
endif

O	:= obj
# Objects live under obj/o/: obj/smtpd is the binary, not a folder.
OO	:= $(O)/o

# Every .c of a process folder goes into libsmtpd.a except the files
# holding main(); unit tests link against the library.
MAINS	:= smtpd/smtpd_main.c control/smtpctl_main.c
LIBSRCS	:= $(filter-out $(MAINS), $(wildcard common/*.c smtpd/*.c lka/*.c \
	   queue/*.c mta/*.c control/*.c)) $(OO)/common/parse.c
LIBOBJS	:= $(patsubst %.c,$(OO)/%.o,$(patsubst $(OO)/%,%,$(LIBSRCS)))

TEST_C	:= $(wildcard regress/*/t_*.c)
TEST_BIN := $(TEST_C:%.c=%)
TOOL_C	:= $(wildcard regress/tools/*.c)
TOOL_BIN := $(TOOL_C:regress/tools/%.c=$(O)/tools/%)

all: $(O)/smtpd $(O)/smtpctl

$(OO)/common/parse.c: common/parse.y
	@mkdir -p $(@D)
	$(YACC) -o $@ $<

$(OO)/common/parse.o: $(OO)/common/parse.c
	$(CC) $(CFLAGS) -Wno-unused-but-set-variable -Wno-unused-parameter -Wno-missing-prototypes -MMD -MP -c -o $@ $<

$(OO)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(O)/libsmtpd.a: $(LIBOBJS)
	rm -f $@
	ar rcs $@ $^

$(O)/smtpd: $(OO)/smtpd/smtpd_main.o $(O)/libsmtpd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/smtpctl: $(OO)/control/smtpctl_main.o $(O)/libsmtpd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

regress/%: regress/%.c $(O)/libsmtpd.a
	$(CC) $(CFLAGS) -Wno-missing-prototypes -o $@ $< $(O)/libsmtpd.a $(LDFLAGS) $(LDLIBS) -latf-c

$(O)/tools/%: regress/tools/%.c $(O)/libsmtpd.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -o $@ $< $(O)/libsmtpd.a $(LDFLAGS) $(LDLIBS)

regress-build: all $(TEST_BIN) $(TOOL_BIN)

setup:
	@sh tools/setup.sh

check: setup
	$(MAKE) regress-build
	@sh tools/check.sh

run: setup all
	@sh tools/run.sh

bench: setup all regress-build
	@sh regress/bench/bench.sh

fuzz: setup
	@sh tools/fuzz.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0555 $(O)/smtpd $(DESTDIR)$(SBINDIR)/smtpd
	install -m 0555 $(O)/smtpctl $(DESTDIR)$(SBINDIR)/smtpctl
	for l in sendmail mailq newaliases; do \
		ln -sf smtpctl $(DESTDIR)$(SBINDIR)/$$l; done
	install -m 0444 smtpd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0444 smtpd.8 smtpctl.8 $(DESTDIR)$(MANDIR)/man8/
	-sh tools/setup.sh --users

lint-man:
	mandoc -Tlint -Wwarning smtpd.conf.5 smtpd.8 smtpctl.8

clean:
	rm -rf $(O) $(TEST_BIN) $(TOOL_BIN)

.PHONY: all setup check run bench fuzz install clean regress-build lint-man
.SECONDARY:

-include $(LIBOBJS:.o=.d) $(MAINS:%.c=$(OO)/%.d)
