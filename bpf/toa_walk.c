// SPDX-License-Identifier: GPL-2.0-only
/*
 * toa_parse()'s walk over the option list, in the shape the BPF verifier can
 * follow. #included after kmod/toa_parse.c, whose per-option rules it calls
 * (toa_accepted, toa_decode and, through it, toa_check): only the walk is
 * restated here, and bpf/tests/walk_fuzz.c checks that toa_walk() and
 * toa_parse() give the same reason and the same client for every option
 * list a TCP header can carry.
 *
 * Why not toa_parse() itself: its cursor advances by a length read from the
 * packet, and the verifier explores every way the bytes could make it
 * advance, with the walk's variables (cursor, option found, bad length,
 * remaining length) tracked together: hundreds of thousands of states for a
 * 40-byte header, and no pruning between them. Here the walk is one step per
 * option, toa_walk_step(), whose whole state between steps is one integer;
 * the BPF program makes that step a function the verifier checks once, so
 * what it sees of the walk is a 40-step loop over an opaque number. The
 * state keeps where the accepted option starts, and the option is decoded
 * from the list once the walk is over.
 *
 * This runs for every connection. The list nearly every ACK behind the LB
 * carries (NOP, NOP, timestamps, the LB's option) is recognised first and
 * takes no step (toa_walk_usual()); for any other, each step is a call that
 * looks up the options again, so a step does what it can: it reads two
 * options, skips the NOPs before each, and ends the walk when its option is
 * the last.
 */

/* The whole TCP option space: a 60-byte header less its fixed 20 bytes. */
#define TOA_OPT_SPACE		40
/* The longest layout toa_decode() reads (254/22). */
#define TOA_OPT_LONGEST		22

/* The walk's state between two steps. */
#define TOA_WALK_NEXT		0x000000ffu	/* where the next option starts */
#define TOA_WALK_HAVE		0x00000100u	/* an accepted option was met (at FOUND) */
#define TOA_WALK_WRONG_LEN	0x00000200u	/* an accepted kind had another length */
#define TOA_WALK_END		0x00000400u	/* EOL, or the end of the list */
#define TOA_WALK_STOP		0x00000800u	/* a broken list: the reason is below */
#define TOA_WALK_REASON_SHIFT	16	/* 8 bits */
#define TOA_WALK_FOUND_SHIFT	24	/* where the accepted option starts: 6 bits */
#define TOA_WALK_FOUND_MASK	0x3fu

/*
 * The BPF program hides the cursor from the compiler once it has moved past a
 * NOP (barrier_var): clang would test p + 1 < TOA_OPT_SPACE as p < 39 on the
 * value before the move, and the 5.10 verifier cannot carry that bound over
 * to the value the next read indexes with.
 */
#ifndef TOA_WALK_OPAQUE
#define TOA_WALK_OPAQUE(x) ((void)0)
#endif

/*
 * Copies the accepted option (TOA_OPT_LONGEST bytes from @opt + @p) to @dst,
 * which is aligned for 64-bit words. The BPF program does it in three word
 * loads (its copies of unknown alignment are byte by byte), so that the
 * decode then reads whole fields.
 */
#ifndef TOA_WALK_LOAD
#define TOA_WALK_LOAD(dst, opt, p) memcpy(dst, (opt) + (p), TOA_OPT_LONGEST)
#endif

/*
 * Whether an option's kind may be one @fmts accepts; only then does the walk
 * ask toa_accepted(), which goes through the formats one by one. The BPF
 * program answers from a bitmap of the kinds (kgwttm_bpf_kinds()), so that a
 * client's own options (timestamps, SACK) cost one test each.
 */
#ifndef TOA_WALK_KIND_MAYBE
#define TOA_WALK_KIND_MAYBE(fmts, kind) true
#endif

static __u32 toa_walk_stop(enum toa_reason r)
{
	return TOA_WALK_STOP | ((__u32)r << TOA_WALK_REASON_SHIFT);
}

/*
 * The option at @p (after any NOPs there), where the state @s after the ones
 * before it says the next starts. @opt holds the @len bytes of the list and
 * must be readable for TOA_OPT_SPACE bytes.
 */
static __u32 toa_walk_option(const u8 *opt, unsigned int len, const struct toa_formats *fmts,
			     unsigned int p, __u32 s)
{
	enum toa_reason bad = (s & TOA_WALK_WRONG_LEN) ? TOA_WRONG_LEN : TOA_NONE;
	bool kind_seen = false;
	u8 optlen;

	/* p < TOA_OPT_SPACE: len is never more, and the verifier needs a bound */
	while (p < TOA_OPT_SPACE && p < len && opt[p] == TOA_OPT_NOP) {
		p++;
		TOA_WALK_OPAQUE(p);
	}
	if (p >= len || p >= TOA_OPT_SPACE || opt[p] == TOA_OPT_EOL)
		return s | TOA_WALK_END;
	if (len - p < 2)
		return toa_walk_stop(bad != TOA_NONE ? bad : TOA_OVERRUN);
	optlen = opt[p + 1];
	if (optlen < 2)
		return toa_walk_stop(bad != TOA_NONE ? bad : TOA_SHORT_OPTLEN);
	if (optlen > len - p)
		return toa_walk_stop(bad != TOA_NONE ? bad : TOA_OVERRUN);

	if (TOA_WALK_KIND_MAYBE(fmts, opt[p]) && toa_accepted(fmts, opt[p], optlen, &kind_seen)) {
		if (s & TOA_WALK_HAVE)
			return toa_walk_stop(TOA_DUPLICATE);
		s |= TOA_WALK_HAVE | (p << TOA_WALK_FOUND_SHIFT);
	} else if (kind_seen) {
		s |= TOA_WALK_WRONG_LEN;
	}
	p += optlen;
	s = (s & ~TOA_WALK_NEXT) | p;
	return p >= len ? s | TOA_WALK_END : s;
}

/*
 * One step: the next TOA_WALK_STEP_OPTIONS options from @p, or fewer if the
 * walk ends first. Two take an ACK with timestamps and the LB's option in one
 * step; each more multiplies what the verifier explores of the step (6.12's
 * explores about 80,000 instructions of the program with two, 4,000 with one,
 * against its limit of a million; 5.10's and 6.1's far fewer).
 */
#define TOA_WALK_STEP_OPTIONS	2

static __u32 toa_walk_step(const u8 *opt, unsigned int len, const struct toa_formats *fmts,
			   unsigned int p, __u32 s)
{
	unsigned int k;

	for (k = 0; k < TOA_WALK_STEP_OPTIONS; k++) {
		s = toa_walk_option(opt, len, fmts, p, s);
		if (s & (TOA_WALK_END | TOA_WALK_STOP))
			break;
		p = s & TOA_WALK_NEXT;
	}
	return s;
}

/* The BPF program replaces the step with a call it has the verifier check once. */
#ifndef TOA_WALK_STEP
#define TOA_WALK_STEP(opt, len, fmts, p, s) toa_walk_step(opt, len, fmts, p, s)
#endif

/* Timestamps (kind 8, length 10), and where the client's options end with them. */
#define TOA_OPT_TS		8
#define TOA_OPT_TS_LEN		10
#define TOA_OPT_TS_ALIGNED	12	/* NOP, NOP, timestamps */

/*
 * The list nearly every ACK behind the LB carries: the client's timestamps
 * as Linux and most stacks align them (NOP, NOP, timestamps; the shortcut
 * tcp_fast_parse_options() takes), or none, then the LB's option, then at
 * most padding. Where the option starts if the list is exactly that and the
 * option is one @fmts accepts, else -1 and the walk decides (@len is at most
 * TOA_OPT_SPACE, as toa_walk() has checked). The walk would
 * find the same: before the option nothing it counts (no format has kind 8),
 * after it nothing but NOPs or an EOL.
 */
static int toa_walk_usual(const u8 *opt, unsigned int len, const struct toa_formats *fmts)
{
	unsigned int p = 0, e, k;
	bool kind_seen = false;

	if (len >= TOA_OPT_TS_ALIGNED && opt[0] == TOA_OPT_NOP && opt[1] == TOA_OPT_NOP &&
	    opt[2] == TOA_OPT_TS && opt[3] == TOA_OPT_TS_LEN)
		p = TOA_OPT_TS_ALIGNED;
	if (len - p < 2)
		return -1;
	e = p + opt[p + 1];
	if (e > len || !toa_accepted(fmts, opt[p], opt[p + 1], &kind_seen))
		return -1;
	/*
	 * After it, the rest of its last word: NOPs, or an EOL and anything.
	 * e < len here, which the verifier cannot tell without a constant.
	 */
	TOA_WALK_OPAQUE(e);
	if (e >= TOA_OPT_SPACE)
		return e == len ? (int)p : -1;
	for (k = 0; k < 3; k++) {
		if (e + k == len || opt[e + k] == TOA_OPT_EOL)
			return (int)p;
		if (opt[e + k] != TOA_OPT_NOP)
			return -1;
	}
	return e + k == len ? (int)p : -1;
}

/* The walk's state at its end, one step at a time from the list's start. */
static __u32 toa_walk_steps(const u8 *opt, unsigned int len, const struct toa_formats *fmts)
{
	unsigned int i, p;
	__u32 s = 0;

	/*
	 * One pass per option, not per byte: a step either ends the walk or
	 * moves past at least one byte, so TOA_OPT_SPACE passes are enough.
	 */
	for (i = 0; i < TOA_OPT_SPACE; i++) {
		p = s & TOA_WALK_NEXT;
		if (p >= TOA_OPT_SPACE)
			return s | TOA_WALK_END;	/* the list fills the option space */
		s = TOA_WALK_STEP(opt, len, fmts, p, s);
		if (s & (TOA_WALK_END | TOA_WALK_STOP))
			break;
	}
	return s;
}

/*
 * The same result as toa_parse(@opt, @len, @fmts, @out) for @len up to
 * TOA_OPT_SPACE; @opt must be readable for TOA_OPT_SPACE + TOA_OPT_LONGEST
 * bytes (TOA_WALK_LOAD copies the longest layout wherever the option starts).
 */
static enum toa_reason toa_walk(const u8 *opt, unsigned int len,
				const struct toa_formats *fmts, struct ttm_peer *out)
{
	union {
		u8 b[TOA_OPT_LONGEST];
		__u64 w[(TOA_OPT_LONGEST + 7) / 8];
	} found;
	__u32 s;
	int at;

	if (len > TOA_OPT_SPACE)
		return TOA_OVERRUN;
	at = toa_walk_usual(opt, len, fmts);
	if (at < 0) {
		s = toa_walk_steps(opt, len, fmts);
		if (s & TOA_WALK_STOP)
			return (enum toa_reason)((s >> TOA_WALK_REASON_SHIFT) & 0xff);
		if (!(s & TOA_WALK_HAVE))
			return (s & TOA_WALK_WRONG_LEN) ? TOA_WRONG_LEN : TOA_NONE;
		at = (s >> TOA_WALK_FOUND_SHIFT) & TOA_WALK_FOUND_MASK;
	}
	if (at >= TOA_OPT_SPACE)	/* cannot be: neither puts it there */
		return TOA_OVERRUN;
	TOA_WALK_LOAD(found.b, opt, at);
	return toa_decode(found.b, found.b[1], out);
}
