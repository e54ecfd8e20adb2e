/* SPDX-License-Identifier: BSD-2-Clause */

/*
 * The kgwttm nginx modules: what the http and stream modules share.
 * ngx_kgwttm_client_get() makes the one getsockopt(SOL_IP, optname) a
 * connection is worth and turns its struct ttm_peer into the sockaddr and
 * text nginx keeps for a client, and formats the variables that show it.
 */


#ifndef _NGX_KGWTTM_PEER_H_INCLUDED_
#define _NGX_KGWTTM_PEER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>



typedef struct {
    ngx_uint_t        found;       /* the kernel named a client */
    struct sockaddr  *sockaddr;    /* in the connection's pool */
    socklen_t         socklen;
    ngx_str_t         addr_text;   /* as ngx_sock_ntop() writes it */
} ngx_kgwttm_client_t;


ngx_int_t ngx_kgwttm_client_get(ngx_connection_t *c, ngx_int_t optname,
    ngx_kgwttm_client_t *client);

void ngx_kgwttm_text_value(ngx_variable_value_t *v, ngx_str_t *text);
ngx_int_t ngx_kgwttm_port_value(ngx_pool_t *pool, ngx_variable_value_t *v,
    ngx_kgwttm_client_t *client);


#endif /* _NGX_KGWTTM_PEER_H_INCLUDED_ */
