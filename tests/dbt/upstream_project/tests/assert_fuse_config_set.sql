-- The fuse settings reached pg_trickle's catalog.
SELECT pgt_name, fuse_mode, fuse_ceiling, fuse_sensitivity
FROM pgtrickle.pgt_stream_tables
WHERE pgt_name = 'order_totals_fused'
  AND (fuse_mode <> 'auto' OR fuse_ceiling IS DISTINCT FROM 100000 OR fuse_sensitivity IS DISTINCT FROM 3)
