/* SPDX-License-Identifier: BSD-2-Clause */

/*
 * ngx_http_kgwttm_module: $remote_addr is the client, not the load balancer.
 *
 * Behind a FULLNAT load balancer every connection comes from the LB; the
 * kgwttm kernel module knows the client (ngx_kgwttm_peer.c).  With
 * "kgwttm_real_ip on" this module replaces the connection's address for each
 * request exactly as ngx_http_realip_module does: c->sockaddr, c->socklen and
 * c->addr_text change at the first phase where the directive is on
 * (post-read with the server's setting, pre-access with the location's), and
 * a cleanup of the request pool puts them back, so every reader of the
 * address ($remote_addr, $remote_port, $binary_remote_addr, the access log,
 * allow/deny, geo, limit_req, limit_conn, X-Forwarded-For, PROXY protocol)
 * sees the client.
 *
 * Handlers of one phase run in the reverse order of registration, and a
 * module loaded with load_module registers after the built-in ones: ours
 * runs before realip's, so realip configured too checks set_real_ip_from
 * against the client and may replace it in turn; the cleanups restore in the
 * reverse order.
 *
 * The kernel's answer belongs to the TCP connection, so it is asked once and
 * kept in the connection's pool (found again through a marked pool cleanup,
 * as realip finds its context): keep-alive requests and HTTP/2 streams,
 * whose fake connections share the real connection's pool, do not ask again.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_kgwttm_conf.h"
#include "ngx_kgwttm_peer.h"


/* What the request replaced, to put back when its pool goes. */
typedef struct {
    ngx_connection_t    *connection;
    struct sockaddr     *sockaddr;
    socklen_t            socklen;
    ngx_str_t            addr_text;
} ngx_http_kgwttm_ctx_t;


static ngx_int_t ngx_http_kgwttm_handler(ngx_http_request_t *r);
static ngx_kgwttm_client_t *ngx_http_kgwttm_client(ngx_http_request_t *r);
static void ngx_http_kgwttm_client_mark(void *data);
static ngx_int_t ngx_http_kgwttm_set_addr(ngx_http_request_t *r,
    ngx_kgwttm_client_t *client);
static void ngx_http_kgwttm_cleanup(void *data);
static ngx_http_kgwttm_ctx_t *ngx_http_kgwttm_get_ctx(ngx_http_request_t *r);
static ngx_int_t ngx_http_kgwttm_client_addr_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_kgwttm_client_port_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_kgwttm_lb_addr_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_kgwttm_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_kgwttm_init(ngx_conf_t *cf);


static ngx_command_t  ngx_http_kgwttm_commands[] = {

    { ngx_string("kgwttm_real_ip"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_kgwttm_switch_conf_t, real_ip),
      NULL },

    { ngx_string("kgwttm_optname"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_kgwttm_conf_set_optname,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_kgwttm_main_conf_t, optname),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_kgwttm_module_ctx = {
    ngx_http_kgwttm_add_variables,         /* preconfiguration */
    ngx_http_kgwttm_init,                  /* postconfiguration */

    ngx_kgwttm_create_main_conf,           /* create main configuration */
    ngx_kgwttm_init_main_conf,             /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_kgwttm_create_switch_conf,         /* create location configuration */
    ngx_kgwttm_merge_switch_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_kgwttm_module = {
    NGX_MODULE_V1,
    &ngx_http_kgwttm_module_ctx,           /* module context */
    ngx_http_kgwttm_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_kgwttm_vars[] = {

    { ngx_string("kgwttm_client_addr"), NULL,
      ngx_http_kgwttm_client_addr_variable, 0, 0, 0 },

    { ngx_string("kgwttm_client_port"), NULL,
      ngx_http_kgwttm_client_port_variable, 0, 0, 0 },

    { ngx_string("kgwttm_lb_addr"), NULL,
      ngx_http_kgwttm_lb_addr_variable, 0, 0, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_kgwttm_handler(ngx_http_request_t *r)
{
    ngx_kgwttm_client_t       *client;
    ngx_kgwttm_switch_conf_t  *klcf;

    klcf = ngx_http_get_module_loc_conf(r, ngx_http_kgwttm_module);

    if (!klcf->real_ip) {
        return NGX_DECLINED;
    }

    /* replaced already: in post-read, or before an internal redirect */

    if (ngx_http_kgwttm_get_ctx(r) != NULL) {
        return NGX_DECLINED;
    }

    client = ngx_http_kgwttm_client(r);
    if (client == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!client->found) {
        return NGX_DECLINED;
    }

    return ngx_http_kgwttm_set_addr(r, client);
}


/* The connection's answer: asked on first use, then found in its pool. */

static ngx_kgwttm_client_t *
ngx_http_kgwttm_client(ngx_http_request_t *r)
{
    ngx_connection_t        *c;
    ngx_pool_cleanup_t      *cln;
    ngx_kgwttm_main_conf_t  *kmcf;

    c = r->connection;

    for (cln = c->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_kgwttm_client_mark) {
            return cln->data;
        }
    }

    cln = ngx_pool_cleanup_add(c->pool, sizeof(ngx_kgwttm_client_t));
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_kgwttm_client_mark;

    kmcf = ngx_http_get_module_main_conf(r, ngx_http_kgwttm_module);

    if (ngx_kgwttm_client_get(c, kmcf->optname, cln->data) == NGX_ERROR) {
        return NULL;
    }

    return cln->data;
}


/* Only marks the connection's answer: its memory goes with the pool. */

static void
ngx_http_kgwttm_client_mark(void *data)
{
}


static ngx_int_t
ngx_http_kgwttm_set_addr(ngx_http_request_t *r, ngx_kgwttm_client_t *client)
{
    ngx_connection_t       *c;
    ngx_pool_cleanup_t     *cln;
    ngx_http_kgwttm_ctx_t  *ctx;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_kgwttm_ctx_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = cln->data;
    c = r->connection;

    cln->handler = ngx_http_kgwttm_cleanup;
    ngx_http_set_ctx(r, ctx, ngx_http_kgwttm_module);

    ctx->connection = c;
    ctx->sockaddr = c->sockaddr;
    ctx->socklen = c->socklen;
    ctx->addr_text = c->addr_text;

    c->sockaddr = client->sockaddr;
    c->socklen = client->socklen;
    c->addr_text = client->addr_text;

    return NGX_DECLINED;
}


static void
ngx_http_kgwttm_cleanup(void *data)
{
    ngx_http_kgwttm_ctx_t  *ctx = data;

    ngx_connection_t  *c;

    c = ctx->connection;

    c->sockaddr = ctx->sockaddr;
    c->socklen = ctx->socklen;
    c->addr_text = ctx->addr_text;
}


static ngx_http_kgwttm_ctx_t *
ngx_http_kgwttm_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t     *cln;
    ngx_http_kgwttm_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_kgwttm_module);

    if (ctx == NULL && (r->internal || r->filter_finalize)) {

        /*
         * an internal redirect clears the module contexts, and a
         * subrequest starts without them: the request pool still
         * holds the cleanup with the original address
         */

        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_kgwttm_cleanup) {
                ctx = cln->data;
                break;
            }
        }
    }

    return ctx;
}


static ngx_int_t
ngx_http_kgwttm_client_addr_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_kgwttm_client_t  *client;

    client = ngx_http_kgwttm_client(r);
    if (client == NULL) {
        return NGX_ERROR;
    }

    ngx_kgwttm_text_value(v, client->found ? &client->addr_text : NULL);

    return NGX_OK;
}


static ngx_int_t
ngx_http_kgwttm_client_port_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_kgwttm_client_t  *client;

    client = ngx_http_kgwttm_client(r);
    if (client == NULL) {
        return NGX_ERROR;
    }

    return ngx_kgwttm_port_value(r->pool, v, client);
}


/* The address the connection had before this module replaced it. */

static ngx_int_t
ngx_http_kgwttm_lb_addr_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_kgwttm_ctx_t  *ctx;

    ctx = ngx_http_kgwttm_get_ctx(r);

    ngx_kgwttm_text_value(v, ctx ? &ctx->addr_text
                                 : &r->connection->addr_text);

    return NGX_OK;
}






static ngx_int_t
ngx_http_kgwttm_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_kgwttm_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_kgwttm_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_kgwttm_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_kgwttm_handler;

    return NGX_OK;
}
