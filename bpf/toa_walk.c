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
 * what it sees of the walk is a 40-step loop over an opaque number. An
 * accepted option is copied out as it is met, so no pointer into the list
 * survives a step.
 */

/* The whole TCP option space: a 60-byte header less its fixed 20 bytes. */
#define TOA_OPT_SPACE		40
/* The longest layout toa_decode() reads (254/22). */
#define TOA_OPT_LONGEST		22

/* The walk's state between two steps. */
#define TOA_WALK_NEXT		0x000000ffu	/* where the next option starts */
#define TOA_WALK_HAVE		0x00000100u	/* an accepted option is in found[] */
#define TOA_WALK_WRONG_LEN	0x00000200u	/* an accepted kind had another length */
#define TOA_WALK_END		0x00000400u	/* EOL, or the end of the list */
#define TOA_WALK_STOP		0x00000800u	/* a broken list: the reason is below */
#define TOA_WALK_REASON_SHIFT	16

static __u32 toa_walk_stop(enum toa_reason r)
{
	return TOA_WALK_STOP | ((__u32)r << TOA_WALK_REASON_SHIFT);
}

/*
 * The option at @p, where the state @s after the ones before it says the next
 * starts. @opt holds the @len bytes of the list and must be readable for
 * TOA_OPT_SPACE + TOA_OPT_LONGEST bytes; the accepted option goes to @found
 * (TOA_OPT_LONGEST bytes).
 */
static __u32 toa_walk_step(const u8 *opt, u8 *found, unsigned int len,
			 const struct toa_formats *fmts, unsigned int p, __u32 s)
{
	enum toa_reason bad = (s & TOA_WALK_WRONG_LEN) ? TOA_WRONG_LEN : TOA_NONE;
	bool kind_seen = false;
	unsigned int k;
	u8 optlen;

	if (p >= len || opt[p] == TOA_OPT_EOL)
		return s | TOA_WALK_END;
	if (opt[p] == TOA_OPT_NOP)
		return (s & ~TOA_WALK_NEXT) | (p + 1);
	if (len - p < 2)
		return toa_walk_stop(bad != TOA_NONE ? bad : TOA_OVERRUN);
	optlen = opt[p + 1];
	if (optlen < 2)
		return toa_walk_stop(bad != TOA_NONE ? bad : TOA_SHORT_OPTLEN);
	if (optlen > len - p)
		return toa_walk_stop(bad != TOA_NONE ? bad : TOA_OVERRUN);

	if (toa_accepted(fmts, opt[p], optlen, &kind_seen)) {
		if (s & TOA_WALK_HAVE)
			return toa_walk_stop(TOA_DUPLICATE);
		for (k = 0; k < TOA_OPT_LONGEST; k++)
			found[k] = opt[p + k];
		s |= TOA_WALK_HAVE;
	} else if (kind_seen) {
		s |= TOA_WALK_WRONG_LEN;
	}
	return (s & ~TOA_WALK_NEXT) | (p + optlen);
}

/* The BPF program replaces the step with a call it has the verifier check once. */
#ifndef TOA_WALK_STEP
#define TOA_WALK_STEP(opt, found, len, fmts, p, s) toa_walk_step(opt, found, len, fmts, p, s)
#endif

/*
 * The same result as toa_parse(@opt, @len, @fmts, @out) for @len up to
 * TOA_OPT_SPACE, with @opt and @found as toa_walk_step() wants them.
 */
static enum toa_reason toa_walk(const u8 *opt, u8 *found, unsigned int len,
				const struct toa_formats *fmts, struct ttm_peer *out)
{
	unsigned int i, p;
	__u32 s = 0;

	if (len > TOA_OPT_SPACE)
		return TOA_OVERRUN;
	/*
	 * One pass per option, not per byte: a step either ends the walk or
	 * moves past at least one byte, so TOA_OPT_SPACE passes are enough,
	 * and an ordinary ACK (NOP, NOP, timestamps, the LB's option) takes
	 * five instead of forty (this runs for every connection).
	 */
	for (i = 0; i < TOA_OPT_SPACE; i++) {
		p = s & TOA_WALK_NEXT;
		if (p >= TOA_OPT_SPACE) {
			s |= TOA_WALK_END;	/* the list fills the option space */
			break;
		}
		s = TOA_WALK_STEP(opt, found, len, fmts, p, s);
		if (s & (TOA_WALK_END | TOA_WALK_STOP))
			break;
	}
	if (s & TOA_WALK_STOP)
		return (enum toa_reason)((s >> TOA_WALK_REASON_SHIFT) & 0xff);
	if (s & TOA_WALK_HAVE)
		return toa_decode(found, found[1], out);
	return (s & TOA_WALK_WRONG_LEN) ? TOA_WRONG_LEN : TOA_NONE;
}
