-- A check inside a statement: raises when `ok` is not true, so that a transaction whose
-- COMMIT went out with its statements (one write) is rolled back by the server instead of
-- committed with a shortfall. `reason` names the check; the gateway maps it to its answer.
CREATE FUNCTION egw_require(ok boolean, reason text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION 'egw_require: %', reason USING ERRCODE = 'P0001', HINT = reason;
  END IF;
  RETURN true;
END
$$;
