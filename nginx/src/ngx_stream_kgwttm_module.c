/* SPDX-License-Identifier: BSD-2-Clause */

/*
 * ngx_stream_kgwttm_module: a stream server's $remote_addr is the client,
 * not the load balancer.
 *
 * A stream session is one connection, so "kgwttm_real_ip on" replaces
 * c->sockaddr, c->socklen and c->addr_text once, in the post-accept phase,
 * as ngx_stream_realip_module does, and for good: allow/deny, limit_conn,
 * geo, the access log and "proxy_protocol on" toward the upstream all see
 * the client (6to4 also gives the connection a ::ffff: local address, so a
 * PROXY protocol header has one family).  The module is loaded after the
 * stream core, so its handler runs before stream realip's, which then
 * judges the client.  The answer of the one getsockopt (ngx_kgwttm_peer.c)
 * stays in the session's context for the variables.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_kgwttm_conf.h"
#include "ngx_kgwttm_peer.h"


typedef struct {
    ngx_kgwttm_client_t  client;
    ngx_str_t            lb_addr_text;    /* before the replacement */
} ngx_stream_kgwttm_ctx_t;


static ngx_int_t ngx_stream_kgwttm_handler(ngx_stream_session_t *s);
#if (NGX_HAVE_INET6)
static ngx_int_t ngx_stream_kgwttm_local_ipv6(ngx_connection_t *c);
#endif
static ngx_stream_kgwttm_ctx_t *ngx_stream_kgwttm_get_ctx(
    ngx_stream_session_t *s);
static ngx_int_t ngx_stream_kgwttm_client_addr_variable(
    ngx_stream_session_t *s, ngx_stream_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_stream_kgwttm_client_port_variable(
    ngx_stream_session_t *s, ngx_stream_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_stream_kgwttm_lb_addr_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_stream_kgwttm_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_stream_kgwttm_init(ngx_conf_t *cf);


static ngx_command_t  ngx_stream_kgwttm_commands[] = {

    { ngx_string("kgwttm_real_ip"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_kgwttm_switch_conf_t, real_ip),
      NULL },

    { ngx_string("kgwttm_optname"),
      NGX_STREAM_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_kgwttm_conf_set_optname,
      NGX_STREAM_MAIN_CONF_OFFSET,
      offsetof(ngx_kgwttm_main_conf_t, optname),
      NULL },

      ngx_null_command
};


static ngx_stream_module_t  ngx_stream_kgwttm_module_ctx = {
    ngx_stream_kgwttm_add_variables,       /* preconfiguration */
    ngx_stream_kgwttm_init,                /* postconfiguration */

    ngx_kgwttm_create_main_conf,           /* create main configuration */
    ngx_kgwttm_init_main_conf,             /* init main configuration */

    ngx_kgwttm_create_switch_conf,         /* create server configuration */
    ngx_kgwttm_merge_switch_conf           /* merge server configuration */
};


ngx_module_t  ngx_stream_kgwttm_module = {
    NGX_MODULE_V1,
    &ngx_stream_kgwttm_module_ctx,         /* module context */
    ngx_stream_kgwttm_commands,            /* module directives */
    NGX_STREAM_MODULE,                     /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_stream_variable_t  ngx_stream_kgwttm_vars[] = {

    { ngx_string("kgwttm_client_addr"), NULL,
      ngx_stream_kgwttm_client_addr_variable, 0, 0, 0 },

    { ngx_string("kgwttm_client_port"), NULL,
      ngx_stream_kgwttm_client_port_variable, 0, 0, 0 },

    { ngx_string("kgwttm_lb_addr"), NULL,
      ngx_stream_kgwttm_lb_addr_variable, 0, 0, 0 },

      ngx_stream_null_variable
};


static ngx_int_t
ngx_stream_kgwttm_handler(ngx_stream_session_t *s)
{
    ngx_connection_t          *c;
    ngx_stream_kgwttm_ctx_t   *ctx;
    ngx_kgwttm_switch_conf_t  *kscf;

    kscf = ngx_stream_get_module_srv_conf(s, ngx_stream_kgwttm_module);

    if (!kscf->real_ip) {
        return NGX_DECLINED;
    }

    ctx = ngx_stream_kgwttm_get_ctx(s);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (!ctx->client.found) {
        return NGX_DECLINED;
    }

    c = s->connection;

#if (NGX_HAVE_INET6)
    if (ctx->client.sockaddr->sa_family == AF_INET6
        && ngx_stream_kgwttm_local_ipv6(c) != NGX_OK)
    {
        return NGX_ERROR;
    }
#endif

    c->sockaddr = ctx->client.sockaddr;
    c->socklen = ctx->client.socklen;
    c->addr_text = ctx->client.addr_text;

    return NGX_DECLINED;
}


#if (NGX_HAVE_INET6)

/*
 * An IPv6 client on an IPv4 socket (6to4): the local address becomes
 * ::ffff:a.b.c.d, so that "proxy_protocol on" writes a TCP6 header with two
 * IPv6 addresses instead of one that mixes the families, which PROXY
 * protocol readers reject.  The listener's own sockaddr is shared by its
 * connections: the mapped one is a copy in the connection's pool.
 */

static ngx_int_t
ngx_stream_kgwttm_local_ipv6(ngx_connection_t *c)
{
    u_char               *p;
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    if (ngx_connection_local_sockaddr(c, NULL, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    if (c->local_sockaddr->sa_family != AF_INET) {
        return NGX_OK;
    }

    sin = (struct sockaddr_in *) c->local_sockaddr;

    sin6 = ngx_pcalloc(c->pool, sizeof(struct sockaddr_in6));
    if (sin6 == NULL) {
        return NGX_ERROR;
    }

    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = sin->sin_port;
    p = sin6->sin6_addr.s6_addr;
    p[10] = 0xff;
    p[11] = 0xff;
    ngx_memcpy(&p[12], &sin->sin_addr.s_addr, 4);

    c->local_sockaddr = (struct sockaddr *) sin6;
    c->local_socklen = sizeof(struct sockaddr_in6);

    return NGX_OK;
}

#endif


/* The session's answer: asked on first use, by the handler or a variable. */

static ngx_stream_kgwttm_ctx_t *
ngx_stream_kgwttm_get_ctx(ngx_stream_session_t *s)
{
    ngx_connection_t         *c;
    ngx_stream_kgwttm_ctx_t  *ctx;
    ngx_kgwttm_main_conf_t   *kmcf;

    ctx = ngx_stream_get_module_ctx(s, ngx_stream_kgwttm_module);
    if (ctx) {
        return ctx;
    }

    c = s->connection;

    ctx = ngx_palloc(c->pool, sizeof(ngx_stream_kgwttm_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    kmcf = ngx_stream_get_module_main_conf(s, ngx_stream_kgwttm_module);

    if (ngx_kgwttm_client_get(c, kmcf->optname, &ctx->client) == NGX_ERROR) {
        return NULL;
    }

    ctx->lb_addr_text = c->addr_text;

    ngx_stream_set_ctx(s, ctx, ngx_stream_kgwttm_module);

    return ctx;
}


static ngx_int_t
ngx_stream_kgwttm_client_addr_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data)
{
    ngx_stream_kgwttm_ctx_t  *ctx;

    ctx = ngx_stream_kgwttm_get_ctx(s);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_kgwttm_text_value(v, ctx->client.found ? &ctx->client.addr_text
                                               : NULL);

    return NGX_OK;
}


static ngx_int_t
ngx_stream_kgwttm_client_port_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data)
{
    ngx_stream_kgwttm_ctx_t  *ctx;

    ctx = ngx_stream_kgwttm_get_ctx(s);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    return ngx_kgwttm_port_value(s->connection->pool, v, &ctx->client);
}


/* The address the connection had before this module replaced it. */

static ngx_int_t
ngx_stream_kgwttm_lb_addr_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data)
{
    ngx_stream_kgwttm_ctx_t  *ctx;

    ctx = ngx_stream_get_module_ctx(s, ngx_stream_kgwttm_module);

    ngx_kgwttm_text_value(v, ctx ? &ctx->lb_addr_text
                                 : &s->connection->addr_text);

    return NGX_OK;
}






static ngx_int_t
ngx_stream_kgwttm_add_variables(ngx_conf_t *cf)
{
    ngx_stream_variable_t  *var, *v;

    for (v = ngx_stream_kgwttm_vars; v->name.len; v++) {
        var = ngx_stream_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_kgwttm_init(ngx_conf_t *cf)
{
    ngx_stream_handler_pt        *h;
    ngx_stream_core_main_conf_t  *cmcf;

    cmcf = ngx_stream_conf_get_module_main_conf(cf, ngx_stream_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_STREAM_POST_ACCEPT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_stream_kgwttm_handler;

    return NGX_OK;
}
