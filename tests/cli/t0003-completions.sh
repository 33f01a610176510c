#!/usr/bin/env bash
# bash and zsh completion: generated from each tool's --help, so they offer
# every option --help shows and no other; bash completion is driven for a few
# cases and its candidates checked.
. "$(dirname "$0")/lib.sh"
COMP=$TEST_ROOT/completions

test_expect_success 'the committed completions are what --help gives (build-aux/gen-completions)' '
	"$TEST_ROOT/build-aux/gen-completions" "$MP_BUILD/bin" fresh &&
	diff -r "$COMP" fresh
'

for tool in "$MP_BUILD"/bin/*; do
	t=$(basename "$tool")
	test_expect_success "$t: bash and zsh completion exist and offer every --help option" '
		test -f "$COMP/bash/'$t'" && test -f "$COMP/zsh/_'$t'" &&
		'$t' --help | grep -o -- "--[a-z][a-zA-Z-]*" | sort -u >opts &&
		for o in $(cat opts); do
			grep -qE -- "[\" ]$o[\" ]" "$COMP/bash/'$t'" && grep -q -- "'"'"'$o" "$COMP/zsh/_'$t'" ||
				{ echo "missing $o"; exit 1; }
		done
	'
done

# complete WORDS...: run the bash completion function of WORDS[0] with the
# cursor on the last word; prints the candidates, one per line, sorted
complete_words() {
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		fn=_$(echo "$1" | tr - _); $fn
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort' complete "$COMP/bash/$1" "$@"
}

test_expect_success 'bash: option names complete from a prefix' '
	complete_words mongo-load-bson --mo >actual &&
	echo --mode >expect && test_cmp expect actual &&
	complete_words mongo-replay --on >actual &&
	printf "%s\n" --on-ddl --only-mapped >expect && test_cmp expect actual
'

test_expect_success 'bash: option values complete from their fixed set' '
	complete_words mongo-replay --on-ddl "" >actual &&
	printf "%s\n" apply skip stop >expect && test_cmp expect actual &&
	complete_words mongo-load-bson --mode u >actual &&
	echo upsert >expect && test_cmp expect actual &&
	complete_words mongo-dump-bson --format "" >actual &&
	printf "%s\n" bson ndjson >expect && test_cmp expect actual
'

test_expect_success 'bash: paths complete where a file or a directory is expected' '
	mkdir dumpdir && : >events.bson && : >events.ndjson &&
	complete_words mongo-replay --from ev >actual &&
	printf "%s\n" events.bson events.ndjson >expect && test_cmp expect actual &&
	complete_words mongo-load-bson --dir du >actual &&
	echo dumpdir >expect && test_cmp expect actual
'

test_expect_success 'bash: a free-form value gets no option names' '
	complete_words mongo-replay --uri "" >actual &&
	test_must_be_empty actual
'

if command -v zsh >/dev/null; then
	test_expect_success 'zsh completion files parse' '
		for f in "$COMP"/zsh/_*; do zsh -n "$f" || exit 1; done
	'
else
	test_skip 'zsh completion files parse' "zsh is not installed"
fi

test_done
