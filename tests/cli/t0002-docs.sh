#!/usr/bin/env bash
# Every tool has a man page that mandoc finds clean (warnings and up), and
# every long option its --help shows is documented in that page.
. "$(dirname "$0")/lib.sh"
command -v mandoc >/dev/null || skip_all "mandoc not installed (make deps)"

for page in "$TEST_ROOT"/man/*.1; do
	tool=$(basename "$page" .1)
	test_expect_success "$tool(1) is mandoc -Tlint clean" '
		mandoc -Tlint -W warning "'"$page"'"
	'
	if command -v "$tool" >/dev/null; then
		test_expect_success "every option of $tool --help is in $tool(1)" '
			'"$tool"' --help | grep -o -- "--[a-z][a-zA-Z-]*" | sort -u >opts &&
			test -s opts &&
			missing= &&
			for o in $(cat opts); do
				grep -q -- "Fl -${o#--}" "'"$page"'" || missing="$missing $o"
			done &&
			{ [ -z "$missing" ] || { echo "not in the man page:$missing"; false; }; }
		'
		test_expect_success "every option $tool(1) describes is in $tool --help" '
			'"$tool"' --help | grep -o -- "--[a-z][a-zA-Z-]*" | sort -u >opts &&
			grep "^\.It Fl" "'"$page"'" | grep -o "Fl -[a-z][a-zA-Z-]*" | sed "s/^Fl -/--/" | sort -u >described &&
			comm -13 opts described >extra &&
			{ [ ! -s extra ] || { echo "not in --help: $(cat extra)"; false; }; }
		'
	fi
done

test_expect_success 'mongo-pipes(7), the overview, is mandoc -Tlint clean' '
	mandoc -Tlint -W warning "$TEST_ROOT/man/mongo-pipes.7"
'

for tool in "$MP_BUILD"/bin/*; do
	[ -x "$tool" ] || continue
	test_expect_success "$(basename "$tool") has a man page" '
		test -f "$TEST_ROOT/man/$(basename "'"$tool"'").1"
	'
done

test_done
