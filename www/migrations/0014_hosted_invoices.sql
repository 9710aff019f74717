-- Hosted invoice pages (filled in by the hosted-invoice change).
SELECT 1;
