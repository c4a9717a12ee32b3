/*
 * net.c - the --net argument and the choice of back end (see net.h).
 *
 *   user[,mac=MAC][,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-:GUESTPORT]...[,restrict=on|off]
 *   tap=IFNAME[,mac=MAC][,queues=N][,vhost=on|off|auto]
 *   tap-fd=FD[,mac=MAC][,vhost=on|off|auto]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "backend/net.h"
#include "err.h"
#include "util.h"

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	if (mac[0] & 1)				/* multicast / broadcast */
		return -EINVAL;
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -EINVAL;
	return 0;
}

static int parse_port(const char *s, size_t n, uint16_t *port)
{
	char buf[8];
	uint64_t v;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (parse_u64(buf, &v) < 0 || v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* tcp|udp:[HOSTADDR]:HOSTPORT-:GUESTPORT (the guest address is the DHCP one) */
static int parse_hostfwd(const char *s, struct net_hostfwd *f)
{
	const char *p = s, *c, *dash;
	char addr[32];

	memset(f, 0, sizeof(*f));
	if (!strncmp(p, "tcp:", 4))
		p += 4;
	else if (!strncmp(p, "udp:", 4)) {
		f->udp = true;
		p += 4;
	} else
		return -EINVAL;
	c = strchr(p, ':');
	if (!c || (size_t)(c - p) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, p, (size_t)(c - p));
	addr[c - p] = '\0';
	if (addr[0]) {
		struct in_addr a;
		if (inet_pton(AF_INET, addr, &a) != 1)
			return -EINVAL;
		f->host_addr = a.s_addr;
	}
	p = c + 1;
	dash = strchr(p, '-');
	if (!dash || parse_port(p, (size_t)(dash - p), &f->host_port) < 0)
		return -EINVAL;
	p = dash + 1;
	if (*p != ':')
		return -EINVAL;		/* the guest address is not selectable */
	p++;
	return parse_port(p, strlen(p), &f->guest_port);
}

int net_parse_opts(const char *s, struct net_opts *o)
{
	char *copy, *save = NULL, *tok;
	int r = 0;
	bool first = true, has_queues = false;

	memset(o, 0, sizeof(*o));
	o->queues = 1;
	o->fd = -1;
	if (!s || !*s)
		return err_set(-EINVAL, "--net: no back end given (user, tap=IFNAME or tap-fd=FD)");
	copy = strdup(s);
	if (!copy)
		return err_set(-ENOMEM, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save), first = false) {
		uint64_t v;

		if (first) {
			if (!strcmp(tok, "user")) {
				o->kind = NET_USER;
			} else if (!strncmp(tok, "tap=", 4)) {
				o->kind = NET_TAP;
				if (!tok[4] || strlen(tok + 4) >= sizeof(o->ifname) || strchr(tok + 4, '/')) {
					r = err_set(-EINVAL, "--net: bad tap interface name '%s'", tok + 4);
					break;
				}
				strcpy(o->ifname, tok + 4);
			} else if (!strncmp(tok, "tap-fd=", 7)) {
				o->kind = NET_TAP_FD;
				if (parse_u64(tok + 7, &v) < 0 || v > 1000000) {
					r = err_set(-EINVAL, "--net: tap-fd '%s' is not a file descriptor number",
						    tok + 7);
					break;
				}
				o->fd = (int)v;
			} else {
				r = err_set(-EINVAL, "--net: unknown back end '%s' (user, tap=IFNAME or tap-fd=FD)",
					    tok);
				break;
			}
			continue;
		}
		if (!strncmp(tok, "mac=", 4)) {
			if (parse_mac(tok + 4, o->mac) < 0) {
				r = err_set(-EINVAL, "--net: bad MAC address '%s' (six hex bytes like 52:54:00:12:34:56, unicast)",
					    tok + 4);
				break;
			}
			o->has_mac = true;
		} else if (!strncmp(tok, "hostfwd=", 8) && o->kind == NET_USER) {
			if (o->nfwd == NET_MAX_HOSTFWD) {
				r = err_set(-EINVAL, "--net: at most %d hostfwd rules", NET_MAX_HOSTFWD);
				break;
			}
			if (parse_hostfwd(tok + 8, &o->fwd[o->nfwd]) < 0) {
				r = err_set(-EINVAL, "--net: bad hostfwd '%s' (tcp|udp:[HOSTADDR]:HOSTPORT-:GUESTPORT)",
					    tok + 8);
				break;
			}
			o->nfwd++;
		} else if (!strncmp(tok, "restrict=", 9) && o->kind == NET_USER) {
			if (strcmp(tok + 9, "on") && strcmp(tok + 9, "off")) {
				r = err_set(-EINVAL, "--net: restrict= takes on or off, not '%s'", tok + 9);
				break;
			}
			o->restrict_ = !strcmp(tok + 9, "on");
		} else if (!strncmp(tok, "queues=", 7) && o->kind == NET_TAP) {
			if (parse_u64(tok + 7, &v) < 0 || v < 1 || v > NET_MAX_PAIRS) {
				r = err_set(-EINVAL, "--net: queues '%s' is not a number from 1 to %d",
					    tok + 7, NET_MAX_PAIRS);
				break;
			}
			o->queues = (unsigned)v;
			has_queues = true;
		} else if (!strncmp(tok, "vhost=", 6) && o->kind != NET_USER) {
			if (!strcmp(tok + 6, "on"))
				o->vhost = 1;
			else if (!strcmp(tok + 6, "off"))
				o->vhost = 0;
			else if (!strcmp(tok + 6, "auto"))
				o->vhost = 2;
			else {
				r = err_set(-EINVAL, "--net: vhost= takes on, off or auto, not '%s'", tok + 6);
				break;
			}
		} else {
			r = err_set(-EINVAL, "--net: unknown option '%s' for the %s back end (%s)", tok,
				    o->kind == NET_USER ? "user" : "tap",
				    o->kind == NET_USER ? "mac=, hostfwd=, restrict=" :
				    o->kind == NET_TAP ? "mac=, queues=, vhost=" : "mac=, vhost=");
			break;
		}
	}
	free(copy);
	(void)has_queues;
	return r;
}

int net_backend_open(const struct net_opts *o, struct net_backend **out)
{
	if (o->kind == NET_USER)
		return net_slirp_open(o, out);
	return net_tap_open(o, out);
}

void net_backend_close(struct net_backend *nb)
{
	if (nb)
		nb->ops->close(nb);
}
