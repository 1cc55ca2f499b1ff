"""The Amazon adapter: a store's SP-API session (clients.SpApi: one per store per invocation, its clients built
once, its seller's quota gate), the typed operations over it (orders.AmazonOrders, products_amazon,
listings_transport, seller_account), Amazon's answers as typed models (answers, orders.parse_amazon_order) and
the error mapping (errors). It never imports pynamodb: the quota buckets are stored by storesync.dal.quota."""
