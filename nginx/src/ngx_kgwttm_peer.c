/* SPDX-License-Identifier: BSD-2-Clause */

/*
 * The kgwttm nginx modules: the getsockopt that names a connection's client.
 *
 * The kgwttm kernel module keeps the client address a FULLNAT load balancer
 * wrote into the handshake's last ACK, and answers getsockopt(fd, SOL_IP,
 * optname, struct ttm_peer) with it (kmod/uapi/kgwttm.h).  The answer never
 * changes during a connection, so callers ask once per connection and keep
 * what this file returns in the connection's pool.
 *
 * Errors follow what each errno means for an operator: ENOENT is the normal
 * answer for health checks and direct clients, so it is silent; ENOPROTOOPT
 * means the kernel module is not loaded, which is worth one warning per worker,
 * not one per connection; anything else is unexpected and logged with its
 * text.  In every case the connection keeps the address accept() gave it.
 *
 * Both dynamic modules link this file and ngx_kgwttm_conf.c (as njs shares
 * its core between its http and stream modules); nginx loads them with
 * RTLD_GLOBAL, so one copy may serve both, which is harmless: the code is the
 * same.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <kgwttm.h>

#include "ngx_kgwttm_peer.h"


static ngx_int_t ngx_kgwttm_sockaddr(ngx_connection_t *c, ngx_int_t optname,
    struct ttm_peer *peer, ngx_kgwttm_client_t *client);


/* One warning per worker process: each worker asks on its own connections. */
static ngx_uint_t  ngx_kgwttm_not_loaded_warned;


ngx_int_t
ngx_kgwttm_client_get(ngx_connection_t *c, ngx_int_t optname,
    ngx_kgwttm_client_t *client)
{
    socklen_t        len;
    ngx_err_t        err;
    struct ttm_peer  peer;

    ngx_memzero(client, sizeof(ngx_kgwttm_client_t));

    /*
     * Only TCP over IP has a load balancer's option: a UNIX-domain or UDP
     * listener would answer with an errno that is no news to anyone.
     */

    if (c->type != SOCK_STREAM
        || c->local_sockaddr == NULL
        || (c->local_sockaddr->sa_family != AF_INET
#if (NGX_HAVE_INET6)
            && c->local_sockaddr->sa_family != AF_INET6
#endif
           ))
    {
        return NGX_DECLINED;
    }

    len = sizeof(struct ttm_peer);

    if (getsockopt(c->fd, IPPROTO_IP, (int) optname, &peer, &len) == -1) {
        err = ngx_socket_errno;

        if (err == NGX_ENOENT) {
            ngx_log_debug1(NGX_LOG_DEBUG_CORE, c->log, 0,
                           "kgwttm: no client for %V", &c->addr_text);
            return NGX_DECLINED;
        }

        if (err == NGX_ENOPROTOOPT) {
            if (!ngx_kgwttm_not_loaded_warned) {
                ngx_kgwttm_not_loaded_warned = 1;
                ngx_log_error(NGX_LOG_WARN, c->log, 0,
                              "kgwttm: getsockopt(SOL_IP, %i) is not "
                              "answered: the kgwttm kernel module is not "
                              "loaded, or was loaded with another optname "
                              "(see kgwttm_optname); this worker's "
                              "connections keep the load balancer's address",
                              optname);
            }

            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_ERR, c->log, err,
                      "kgwttm: getsockopt(SOL_IP, %i) failed", optname);
        return NGX_DECLINED;
    }

    if (len != sizeof(struct ttm_peer)) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "kgwttm: getsockopt(SOL_IP, %i) answered %d bytes "
                      "instead of %uz: is another module on this optname?",
                      optname, (int) len, sizeof(struct ttm_peer));
        return NGX_DECLINED;
    }

    return ngx_kgwttm_sockaddr(c, optname, &peer, client);
}


static ngx_int_t
ngx_kgwttm_sockaddr(ngx_connection_t *c, ngx_int_t optname,
    struct ttm_peer *peer, ngx_kgwttm_client_t *client)
{
    u_char          *p;
    size_t           len;
    u_char           text[NGX_SOCKADDR_STRLEN];
    ngx_sockaddr_t  *sa;

    sa = ngx_pcalloc(c->pool, sizeof(ngx_sockaddr_t));
    if (sa == NULL) {
        return NGX_ERROR;
    }

    switch (peer->af) {

    case AF_INET:
#if (NGX_HAVE_INET6)
        /*
         * On an IPv6 socket (4to6, or 4to4 on a dual-stack listener) the
         * client is ::ffff:a.b.c.d, as accept() gives an IPv4 peer there,
         * so the peer and the local address keep one family (a PROXY
         * protocol header needs that) and $remote_addr reads as nginx
         * shows such a peer without this module.
         */
        if (c->local_sockaddr->sa_family == AF_INET6) {
            sa->sockaddr_in6.sin6_family = AF_INET6;
            sa->sockaddr_in6.sin6_port = peer->port;
            p = sa->sockaddr_in6.sin6_addr.s6_addr;
            p[10] = 0xff;
            p[11] = 0xff;
            ngx_memcpy(&p[12], &peer->ip, 4);
            client->socklen = sizeof(struct sockaddr_in6);
            break;
        }
#endif
        sa->sockaddr_in.sin_family = AF_INET;
        sa->sockaddr_in.sin_port = peer->port;
        sa->sockaddr_in.sin_addr.s_addr = peer->ip;
        client->socklen = sizeof(struct sockaddr_in);
        break;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sa->sockaddr_in6.sin6_family = AF_INET6;
        sa->sockaddr_in6.sin6_port = peer->port;
        ngx_memcpy(&sa->sockaddr_in6.sin6_addr, peer->ip6, 16);
        client->socklen = sizeof(struct sockaddr_in6);
        break;
#endif

    default:
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "kgwttm: getsockopt(SOL_IP, %i) answered address "
                      "family %ui, neither AF_INET nor AF_INET6",
                      optname, (ngx_uint_t) peer->af);
        return NGX_DECLINED;
    }

    len = ngx_sock_ntop(&sa->sockaddr, client->socklen, text,
                        NGX_SOCKADDR_STRLEN, 0);
    if (len == 0) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(c->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, text, len);

    client->found = 1;
    client->sockaddr = &sa->sockaddr;
    client->addr_text.len = len;
    client->addr_text.data = p;

    ngx_log_debug2(NGX_LOG_DEBUG_CORE, c->log, 0,
                   "kgwttm: client of %V is %V", &c->addr_text,
                   &client->addr_text);

    return NGX_OK;
}


/* An empty text is "not found": "-" in a log, "" in a header. */

void
ngx_kgwttm_text_value(ngx_variable_value_t *v, ngx_str_t *text)
{
    if (text == NULL || text->len == 0) {
        v->not_found = 1;
        return;
    }

    v->len = text->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = text->data;
}


ngx_int_t
ngx_kgwttm_port_value(ngx_pool_t *pool, ngx_variable_value_t *v,
    ngx_kgwttm_client_t *client)
{
    if (client == NULL || !client->found) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ngx_pnalloc(pool, sizeof("65535") - 1);
    if (v->data == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(v->data, "%ui",
                         (ngx_uint_t) ngx_inet_get_port(client->sockaddr))
             - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
